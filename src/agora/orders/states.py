from agora.core.statemachine import StateMachine
from agora.orders.models import OrderStatus as S

ORDER_LIFECYCLE = StateMachine.of(
    "order",
    {
        S.RESERVED: [S.PAID, S.EXPIRED, S.CANCELLED],
        S.PAID: [S.ACCEPTED, S.CANCELLED, S.REFUNDED],
        S.ACCEPTED: [S.SHIPPED, S.CANCELLED, S.REFUNDED],
        S.SHIPPED: [S.DELIVERED],
        S.DELIVERED: [S.COMPLETED, S.REFUNDED],
        S.COMPLETED: [S.REFUNDED],
    },
)
