from flask_login import login_required

from field.home import bp
from field.web import render


@bp.route("/")
@login_required
def index():
    return render("home/index.html")
