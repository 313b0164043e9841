"""Users API: tokens, logout, the current user, and user administration."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from .. import services
from ..filters import UserFilter
from ..lockout import lockout_response
from ..models import User
from .serializers import LogoutSerializer, MeSerializer, UserSerializer


class TokenObtainView(TokenObtainPairView):
    """Exchange username and password for an access and a refresh token."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            # axes flags the DRF request it was given; its middleware only sees Django's.
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request._request)
            raise


class TokenRefreshRotateView(TokenRefreshView):
    """Exchange a refresh token for a new pair; the old refresh token is revoked."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=LogoutSerializer, responses={200: None})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_logout(refresh=serializer.validated_data["refresh"])
        response = Response(None, status=status.HTTP_200_OK)
        response.message = gettext("Logged out; the refresh token is revoked.")
        return response


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """People and their roles (admins). Deactivate a user instead of deleting them."""

    queryset = User.objects.all().order_by("username")
    serializer_class = UserSerializer
    filterset_class = UserFilter
    search_fields = ["username", "email", "first_name", "last_name", "department"]
    ordering_fields = ["username", "date_joined", "last_login", "role"]

    def perform_create(self, serializer):
        serializer.instance = services.user_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.user_update(user=serializer.instance, **serializer.validated_data)
