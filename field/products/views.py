from flask_login import login_required

from field.products import bp
from field.web import render


@bp.route("/products")
@login_required
def index():
    return render("home/index.html")
