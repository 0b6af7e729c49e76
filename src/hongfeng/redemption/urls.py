from django.urls import path

from hongfeng.redemption import views

app_name = "redemption"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("items/<str:item_id>/order/", views.order, name="order"),
    path("orders/", views.mine, name="mine"),
    path("orders/<str:order_id>/cancel/", views.cancel_mine, name="cancel_mine"),
    path("manage/items/", views.items, name="items"),
    path("manage/items/new/", views.item_new, name="item_new"),
    path("manage/items/<str:item_id>/edit/", views.item_edit, name="item_edit"),
    path("manage/orders/", views.orders, name="orders"),
    path("manage/orders/<str:order_id>/hand-over/", views.hand_over, name="hand_over"),
    path("manage/orders/<str:order_id>/cancel/", views.cancel, name="cancel"),
]
