from allauth.account.adapter import DefaultAccountAdapter


class PortalAccountAdapter(DefaultAccountAdapter):
    """Administrators create users: there is no public sign-up."""

    def is_open_for_signup(self, request) -> bool:  # noqa: ANN001
        return False
