"""Page URLs of the test-only plugin app (tests/core/plugin_app.py)."""

app_name = "plugin"
urlpatterns: list = []
