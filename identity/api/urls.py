app_name = "identity-api"

urlpatterns: list = []
