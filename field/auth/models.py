"""Users, roles and the region tree that scope follows."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from field.core import UTCDateTime, now
from field.extensions import db


class Role(StrEnum):
    REP = "rep"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    ADMIN = "admin"
    DEALER = "dealer"  # a dealer's staff: that dealer's orders and stores only


user_regions = Table(
    "user_regions",
    db.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", Integer, ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
)


class Region(db.Model):
    """A node of the country → region → area tree.

    `path` is the materialised chain of ids ('/1/4/'), so a subtree is one LIKE."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    path: Mapped[str] = mapped_column(String(400), index=True, default="")

    parent: Mapped[Region | None] = relationship(remote_side=[id])

    def set_parent(self, parent: Region | None) -> None:
        """Place this region under parent and recompute its path (id must be assigned)."""
        self.parent = parent
        self.path = (parent.path if parent else "/") + f"{self.id}/"

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def __repr__(self) -> str:
        return f"<Region {self.code}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"), index=True)  # dealer role only
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))  # where notifications are mailed (SMTP_HOST set)
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Each signed-in session keeps the version it began under; raising it ends them all (field.auth.sessions).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    supervisor: Mapped[User | None] = relationship(remote_side=[id], foreign_keys=[supervisor_id])
    regions: Mapped[list[Region]] = relationship(secondary=user_regions, order_by=Region.path)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.login} {self.role}>"
