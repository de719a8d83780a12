from django.urls import path

from shop.basket import views

app_name = "basket"
urlpatterns = [
    path("", views.basket_page, name="page"),
    path("add/", views.basket_add, name="add"),
    path("update/", views.basket_update, name="update"),
]
