"""Webhooks over the API: the same services as the pages. The secret is in the create and rotate answers only."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.idempotency import IdempotentPostMixin
from webhooks import selectors, services
from webhooks.api import serializers as s
from webhooks.filters import DeliveryFilter, SubscriptionFilter


def _accepted(request, delivery):
    """202 with the queued delivery, as the user sees it in the log."""
    delivery = selectors.deliveries_visible_to(request.user).get(pk=delivery.pk)
    return Response(s.DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class SubscriptionViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Webhook subscriptions you may see: governance admins and auditors all, product owners and ML
    engineers their teams'. Changing one needs governance, or a product or ML role in its team."""

    serializer_class = s.SubscriptionSerializer
    filterset_class = SubscriptionFilter

    def get_queryset(self):
        return selectors.subscription_list(user=self.request.user)

    @staticmethod
    def _with_secret(subscription, status_code=status.HTTP_200_OK):
        return Response(s.SubscriptionWithSecretSerializer(subscription).data, status=status_code)

    @extend_schema(request=s.SubscriptionCreateSerializer, responses={201: s.SubscriptionWithSecretSerializer})
    def create(self, request):
        serializer = s.SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription, _secret = services.subscription_create(actor=request.user, **serializer.validated_data)
        return self._with_secret(subscription, status.HTTP_201_CREATED)

    @extend_schema(request=s.SubscriptionUpdateSerializer, responses=s.SubscriptionSerializer)
    def partial_update(self, request, pk=None):
        serializer = s.SubscriptionUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_update(
            actor=request.user, subscription=self.get_object(), **serializer.validated_data
        )
        return Response(self.get_serializer(subscription).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.subscription_delete(actor=request.user, subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.SubscriptionWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret at once (shown in this answer only); later deliveries are signed with it."""
        subscription, _secret = services.subscription_rotate_secret(actor=request.user, subscription=self.get_object())
        return self._with_secret(subscription)

    @extend_schema(request=None, responses={202: s.DeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        """Queue a ``ping`` event to this subscription (disabled ones too)."""
        return _accepted(request, services.subscription_ping(actor=request.user, subscription=self.get_object()))


class DeliveryViewSet(IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deliveries of the subscriptions you may see, newest first; a delivery's payload and every attempt."""

    serializer_class = s.DeliverySerializer
    filterset_class = DeliveryFilter

    def get_queryset(self):
        deliveries = selectors.deliveries_visible_to(self.request.user)
        return deliveries.prefetch_related("attempt_log") if self.action == "retrieve" else deliveries

    def get_serializer_class(self):
        return s.DeliveryDetailSerializer if self.action == "retrieve" else s.DeliverySerializer

    @extend_schema(request=None, responses={202: s.DeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """Send it again (a new round of attempts, same id and payload), or now if it is waiting to retry."""
        return _accepted(request, services.delivery_redeliver(actor=request.user, delivery=self.get_object()))
