from field import create_app

app = create_app()
