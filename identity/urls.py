app_name = "identity"

urlpatterns: list = []
