from flask_login import login_required

from field.stores import bp
from field.web import render


@bp.route("/stores")
@login_required
def index():
    return render("home/index.html")
