"""The lifecycles of requests, quotes and invitations (audited, conditional UPDATEs)."""

from agora.core.statemachine import StateMachine
from agora.quotes.models import InvitationStatus as I
from agora.quotes.models import QuoteStatus as Q
from agora.quotes.models import RequestStatus as R

# A quoted request falls back to open when its last offered quote is withdrawn or lapses.
REQUEST_LIFECYCLE = StateMachine.of(
    "quote_request",
    {
        R.OPEN: [R.QUOTED, R.EXPIRED, R.CANCELLED],
        R.QUOTED: [R.ACCEPTED, R.OPEN, R.EXPIRED, R.CANCELLED],
    },
)

QUOTE_LIFECYCLE = StateMachine.of(
    "quote",
    {Q.OFFERED: [Q.ACCEPTED, Q.DECLINED, Q.WITHDRAWN, Q.EXPIRED]},
)

INVITATION_LIFECYCLE = StateMachine.of(
    "invitation",
    {I.INVITED: [I.QUOTED, I.PASSED, I.LAPSED, I.CLOSED]},
)
