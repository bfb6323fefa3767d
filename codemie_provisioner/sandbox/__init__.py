"""A local Azure Resource Manager over HTTPS for tests and rehearsals (see DESIGN.md "Sandbox")."""

from .model import ArmError, ResourceType, register, route
from .profile import Profile
from .service import Sandbox, StaticCredential

__all__ = ["ArmError", "Profile", "ResourceType", "Sandbox", "StaticCredential", "register", "route"]
