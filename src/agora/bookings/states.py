from agora.bookings.models import BookingStatus as S
from agora.core.statemachine import StateMachine

# After Sharetribe's transaction processes. Vendor staff may start or complete an
# accepted booking at any time (work often begins early), so accepted → completed is
# allowed directly.
BOOKING_LIFECYCLE = StateMachine.of(
    "booking",
    {
        S.HELD: [S.PENDING, S.ACCEPTED, S.EXPIRED, S.CANCELLED],
        S.PENDING: [S.ACCEPTED, S.DECLINED, S.CANCELLED, S.EXPIRED],
        S.ACCEPTED: [S.IN_PROGRESS, S.COMPLETED, S.CANCELLED, S.NO_SHOW],
        S.IN_PROGRESS: [S.COMPLETED],
        S.COMPLETED: [S.REVIEWED],
    },
)
