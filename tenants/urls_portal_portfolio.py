"""Portal URLs: portfolio, client pages, coach notes and calendar (included by tenants.urls_portal)."""

from django.urls import path

from tenants import views_portfolio as views

urlpatterns = [
    path("", views.portfolio_page, name="portfolio"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar.ics", views.calendar_ics, name="calendar_ics"),
    path("clients/<slug:slug>/", views.client_page, name="client"),
    path("clients/<slug:slug>/refresh/", views.client_refresh, name="client_refresh"),
    path("clients/<slug:slug>/notes/", views.note_add_view, name="note_add"),
    path("clients/<slug:slug>/notes/<int:pk>/edit/", views.note_edit_view, name="note_edit"),
    path("clients/<slug:slug>/notes/<int:pk>/delete/", views.note_delete_view, name="note_delete"),
]
