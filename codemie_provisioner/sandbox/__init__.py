"""A local Azure Resource Manager over HTTPS for tests and rehearsals (see DESIGN.md "Sandbox")."""

from .clients import StaticCredential
from .model import ArmError, ResourceType, register, route
from .profile import Profile
from .remote import RemoteSandbox, attach
from .service import Sandbox

__all__ = ["ArmError", "Profile", "RemoteSandbox", "ResourceType", "Sandbox", "StaticCredential", "attach",
           "register", "route"]
