"""Settings of the web login (`[auth]`): session lifetimes, login throttling, the cookie."""

from __future__ import annotations

from pydantic import Field, model_validator

from callfloor.settings.sections import Section

__all__ = ["AuthSettings"]


class AuthSettings(Section):
    """Web login sessions and throttling (`[auth]`); see docs/users.md."""

    session_idle: float = Field(default=8 * 3600.0, gt=0, description="Seconds without a request after which a login session ends (idle expiry).")
    session_max: float = Field(default=12 * 3600.0, gt=0, description="Seconds after login at which a session ends however busy it is (absolute expiry).")
    login_failures: int = Field(default=5, ge=1, description="Failed logins for one username within lockout_window before further tries get 429 Too Many Requests.")
    address_failures: int = Field(default=20, ge=1, description="Failed logins from one client address within lockout_window before it gets 429 (higher than login_failures: a floor's seats often share one address).")
    lockout_window: float = Field(default=900.0, gt=0, description="Seconds over which failed logins are counted; a lockout ends when its oldest counted failure is this old.")
    cookie_name: str = Field(default="callfloor_session", pattern=r"^[A-Za-z0-9_-]+$", description="Name of the session cookie (HttpOnly, SameSite=Strict, Secure over https).")

    @model_validator(mode="after")
    def _order(self) -> AuthSettings:
        if self.session_idle > self.session_max:
            raise ValueError(f"session_idle ({self.session_idle}) must not exceed session_max ({self.session_max})")
        return self
