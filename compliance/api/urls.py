app_name = "compliance-api"

urlpatterns = []
