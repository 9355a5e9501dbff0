"""Photo memory budget: the peak memory of one upload ≤ 300 MB for any file under the limits.

For each case — every accepted format near the 60 MP pixel cap (or at the largest size its decode
fits), a 12 MP camera JPEG and a 48 MP iPhone-size HEIC — a fresh Python process starts the app,
checks in a visit, ingests one small upload of the same format (warm-up: codecs, fonts, query
plans), then ingests the case through field.photos.ingest.add_photo (decode, copies, pHash, flags,
fsynced writes, commit) and reports how far its peak resident memory rose over that warm process
(Linux: VmHWM, reset through /proc/self/clear_refs just before). The upload's bytes are already in memory before; the figure the budget counts adds
them twice (the request's copy and ours), as images.UPLOAD_BUDGET does. A case refused by the
decode budget is shown with its message: refusing costs no decode.

    .venv/bin/python bench/photo_memory.py
"""
import io
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_MB = 300

CHILD = r"""
import json, sys, tempfile, uuid
from pathlib import Path


def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024


def reset_peak():
    # ru_maxrss never comes down (signing in the test users' passwords alone raises it far): reset the
    # kernel's high-water mark (VmHWM) to the current resident size, and measure from there.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status("VmRSS")


def peak():
    return status("VmHWM")

sys.path.insert(0, sys.argv[1])
path, warm_path = sys.argv[2], sys.argv[3]
from field import create_app
from field.core import now
from field.extensions import db
from field.photos import ingest
from field.visits import operations as ops
from field.visits.builtin import ensure_builtin_types
from field.visits.models import StepKind, Visit, VisitStatus, VisitType
from flask_migrate import upgrade
from sqlalchemy import select
from tests.factories import make_org, make_store

work = Path(tempfile.mkdtemp(prefix="photo-mem-"))
app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.sqlite'}",
                  "UPLOAD_DIR": str(work / "uploads"), "SECRET_KEY": "bench"})
data, warm = Path(path).read_bytes(), Path(warm_path).read_bytes()
with app.app_context(), app.test_request_context():
    upgrade()
    org = make_org()
    ensure_builtin_types()
    store = make_store(rep=org.rep, lat=31.2304, lng=121.4737)
    vt = db.session.execute(select(VisitType).where(VisitType.code == "display_audit")).scalar_one()
    visit = Visit(rep=org.rep, store=store, visit_type=vt, status=VisitStatus.PLANNED, flags=[])
    db.session.add(visit)
    db.session.commit()
    visit = ops.check_in(org.rep, store, vt, position=store.point, accuracy_m=8, position_at=now(),
                         reason="", client_key=None, visit=visit)
    db.session.commit()
    step = next(s for s in vt.steps if s.kind == StepKind.PHOTO)
    ingest.add_photo(visit, step, ingest.Upload(data=warm, client_id=str(uuid.uuid4())), org.rep)
    db.session.commit()
    before = reset_peak()
    try:
        ingest.add_photo(visit, step, ingest.Upload(data=data, client_id=str(uuid.uuid4())), org.rep)
        db.session.commit()
        outcome = "taken"
    except ingest.BadPhoto as refused:
        db.session.rollback()
        outcome = f"refused {refused.status}: {refused.message}"
    after = peak()
print(json.dumps({"rise": after - before, "outcome": outcome}))
"""


def picture(size, seed=7):
    """A camera-like scene (blocks, blur, noise) at `size`, drawn at a quarter and scaled up (fast)."""
    from PIL import Image, ImageDraw, ImageFilter
    rnd = random.Random(seed)
    w, h = max(1, size[0] // 4), max(1, size[1] // 4)
    img = Image.new("RGB", (w, h), (150, 140, 120))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rnd.randrange(w), rnd.randrange(h)
        draw.rectangle((x, y, x + rnd.randrange(10, w // 3), y + rnd.randrange(10, h // 3)),
                       fill=tuple(rnd.randrange(256) for _ in range(3)))
    img = img.filter(ImageFilter.GaussianBlur(2)).resize(size, Image.Resampling.BILINEAR)
    return img


def encoded(img, fmt, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def cases():
    import pillow_heif
    from tests.fixtures import photo_inputs as inputs
    from tests.fixtures.photos import exif_bytes
    pillow_heif.register_heif_opener()
    exif = exif_bytes()
    big = picture((8944, 6708))          # 60.0 MP, 4:3: a 60 MP camera
    return [
        ("JPEG 12 MP camera", lambda: encoded(picture((4000, 3000)), "JPEG", quality=92, exif=exif), "JPEG"),
        ("JPEG 60 MP baseline", lambda: encoded(big, "JPEG", quality=90, exif=exif), "JPEG"),
        ("JPEG 60 MP progressive 4:2:0", lambda: encoded(big, "JPEG", quality=90, progressive=True, exif=exif), "JPEG"),
        ("JPEG 60 MP progressive 4:4:4", lambda: encoded(big, "JPEG", quality=90, progressive=True, subsampling=0),
         "JPEG"),
        ("PNG 59.3 MP RGB (7700², 0.3 MB)", lambda: inputs.flat_png(7700, 7700), "PNG"),
        ("PNG 59.3 MP RGBA", lambda: encoded(picture((7700, 7700)).convert("RGBA"), "PNG", compress_level=1), "PNG"),
        ("PNG 16-bit grey 16 MP", lambda: inputs.png16_grey(4000, 4000), "PNG"),
        ("WebP 15 MP (3900², its largest)", lambda: encoded(picture((3900, 3900)), "WEBP", quality=80), "WEBP"),
        ("WebP 59.3 MP (header only)", lambda: inputs.webp_claiming(7700, 7700), "WEBP"),
        ("HEIC 48 MP 4:2:0 (8064 × 6048, an iPhone's largest)", lambda: encoded(picture((8064, 6048)), "HEIF", quality=60),
         "HEIF"),
        ("HEIC 59.3 MP 4:2:0", lambda: encoded(picture((7700, 7700)), "HEIF", quality=60), "HEIF"),
    ]


def main() -> int:
    import pillow_heif
    pillow_heif.register_heif_opener()
    work = Path(tempfile.mkdtemp(prefix="photo-mem-files-"))
    warm = {fmt: work / f"warm.{fmt.lower()}" for fmt in ("JPEG", "PNG", "WEBP", "HEIF")}
    for fmt, path in warm.items():
        path.write_bytes(encoded(picture((640, 480), seed=1), fmt))
    print(f"photo memory: peak of one upload through add_photo, per case (budget ≤ {BUDGET_MB} MB, "
          "counting the upload's bytes twice)")
    worst = 0.0
    for name, make, fmt in cases():
        path = work / "case.bin"
        path.write_bytes(make())
        size = path.stat().st_size
        out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(path), str(warm[fmt])],
                             capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        if out.returncode != 0:
            print(f"  {name}: FAILED\n{out.stderr[-2000:]}")
            return 1
        result = json.loads(out.stdout.strip().splitlines()[-1])
        peak = (result["rise"] + 2 * size) / 1e6
        worst = max(worst, peak)
        print(f"  {name}: peak {peak:.0f} MB (rise {result['rise'] / 1e6:.0f} MB + upload {size / 1e6:.1f} MB × 2) "
              f"— {result['outcome']}")
    print(f"  worst peak of one upload: {worst:.0f} MB (goal ≤ {BUDGET_MB} MB)")
    return 0 if worst <= BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
