"""Analyst pages of the work queue.

Names avoid the API router's (``task-detail``, ``task-cancel``...): the pages come later in
the URL map, so a shared name would make ``{% url %}`` answer with the page.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:pk>/", views.task_detail, name="task-page"),
    path("tasks/<int:pk>/cancel/", views.task_cancel, name="task-page-cancel"),
    path("tasks/<int:pk>/rerun/", views.task_rerun, name="task-page-rerun"),
]
