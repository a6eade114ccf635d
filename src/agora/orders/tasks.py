from datetime import timedelta

from django_tasks import task

from agora.core import periodic
from agora.orders.services import checkout, fulfilment


@task()
def expire_stock_reservations() -> int:
    return checkout.expire_reservations()


@task()
def escalate_unaccepted_orders() -> int:
    return fulfilment.escalate_unaccepted()


@task()
def complete_delivered_orders() -> int:
    return fulfilment.complete_delivered()


@task()
def release_order_escrow() -> int:
    return fulfilment.release_due_escrow()


periodic.register(expire_stock_reservations, every=timedelta(minutes=1))
periodic.register(escalate_unaccepted_orders, every=timedelta(minutes=15))
periodic.register(complete_delivered_orders, every=timedelta(hours=1))
periodic.register(release_order_escrow, every=timedelta(minutes=15))
