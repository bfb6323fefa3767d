"""Managed disks and virtual machines (the jumpbox).

Why: the jumpbox is the only way into the private network, and its create has rules the engine must meet
before Azure would accept it: a Linux VM with password sign-in disabled needs at least one SSH public key at
`/home/<admin>/.ssh/authorized_keys`; the NIC must already exist (it is the network module's
`networkInterfaces` type, read here, never registered) and may serve one VM only (`NicInUse`); the OS profile is
fixed after create (`PropertyChangeNotAllowed`). The admin password and custom data are write-only. A VM makes
its OS disk as a `disks` resource that outlives the VM unless `deleteOption` is `Delete`, and an attached disk
cannot be deleted on its own.
"""

from __future__ import annotations

import re

from ..model import ArmError, ResourceType, register
from .data import iso, rid_parts
from .identity import bad, fill_identity

DISK_API = ("2026-03-02",)
VM_API = ("2026-04-01",)
DISK = "Microsoft.Compute/disks"
VM = "Microsoft.Compute/virtualMachines"
SSH_KEY = re.compile(r"(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]{16,}( .*)?")
DISK_SKUS = {"standard_lrs": "Standard", "premium_lrs": "Premium", "standardssd_lrs": "Standard",
             "ultrassd_lrs": "Ultra", "premium_zrs": "Premium", "standardssd_zrs": "Standard",
             "premiumv2_lrs": "Premium"}
WRITE_ONLY = ("adminPassword", "customData")
FIXED_OS = ("computerName", "adminUsername")


# ---------------------------------------------------------------- disks


def validate_disk(ctx, rid: str, body: dict, existing: dict | None) -> None:
    if not ctx.rule("validation"):
        return
    props = body.get("properties") or {}
    option = str((props.get("creationData") or {}).get("createOption", ""))
    if not option:
        raise bad("Required parameter 'creationData.createOption' is missing (null).", "creationData.createOption")
    if option.lower() == "empty" and not props.get("diskSizeGB"):
        raise bad("Disk size must be set when creating an empty disk.", "diskSizeGB")
    sku = str((body.get("sku") or {}).get("name", "Standard_LRS")).lower()
    if sku not in DISK_SKUS:
        raise bad(f"The value {sku} of parameter 'sku.name' is invalid.", "sku.name")


def disk_body(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = (existing or {}).get("properties", {})
    props = {"diskState": "Unattached", "networkAccessPolicy": "AllowAll", "publicNetworkAccess": "Enabled",
             "encryption": {"type": "EncryptionAtRestWithPlatformKey"}, **old, **(body.get("properties") or {})}
    size = int(props.get("diskSizeGB") or 30)
    props.update(diskSizeGB=size, diskSizeBytes=size * 1024 ** 3, uniqueId=old.get("uniqueId") or ctx.new_guid(),
                 timeCreated=old.get("timeCreated") or iso(ctx))
    sku = dict(body.get("sku") or (existing or {}).get("sku") or {"name": "Standard_LRS"})
    sku["tier"] = DISK_SKUS.get(sku["name"].lower(), "Standard")
    owner = {"managedBy": existing["managedBy"]} if (existing or {}).get("managedBy") else {}
    return {**{k: v for k, v in body.items() if k != "managedBy"}, **owner, "sku": sku, "properties": props}


def before_delete_disk(ctx, rid: str, body: dict) -> None:
    owner = body.get("managedBy")
    if owner and ctx.get(owner) is not None:
        raise ArmError(409, "OperationNotAllowed", f"Disk {rid_parts(rid)['name']} is attached to VM {owner}.")


# ---------------------------------------------------------------- virtual machines


def validate_vm(ctx, rid: str, body: dict, existing: dict | None) -> None:
    props = body.get("properties") or {}
    if not (props.get("hardwareProfile") or {}).get("vmSize"):
        raise bad("Required parameter 'hardwareProfile.vmSize' is missing (null).", "hardwareProfile.vmSize")
    old_os = (existing or {}).get("properties", {}).get("osProfile")
    if old_os is not None:
        _check_os_unchanged(props.get("osProfile") or {}, old_os)
    else:
        _check_os_profile(props.get("osProfile") or {})
        _check_storage(props.get("storageProfile") or {})
    _check_nics(ctx, rid, props.get("networkProfile") or {})


def _check_os_profile(os_profile: dict) -> None:
    admin = os_profile.get("adminUsername")
    if not admin:
        raise bad("Required parameter 'osProfile.adminUsername' is missing (null).", "adminUsername")
    linux = os_profile.get("linuxConfiguration") or {}
    keys = (linux.get("ssh") or {}).get("publicKeys") or []
    if linux.get("disablePasswordAuthentication") and not keys:
        raise bad("Authentication using either SSH or by user name and password must be enabled in Linux profile.",
                   "linuxConfiguration")
    if not linux.get("disablePasswordAuthentication") and not os_profile.get("adminPassword"):
        raise bad("Required parameter 'adminPassword' is missing (null).", "adminPassword")
    for key in keys:
        if key.get("path") != f"/home/{admin}/.ssh/authorized_keys":
            raise bad(f"Destination path for SSH public keys is currently limited to its default value "
                       f"/home/{admin}/.ssh/authorized_keys due to a known issue in Linux provisioning agent.",
                       "linuxConfiguration.ssh.publicKeys.path")
        if not SSH_KEY.fullmatch(str(key.get("keyData", "")).strip()):
            raise bad("The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.",
                       "linuxConfiguration.ssh.publicKeys.keyData")


def _check_os_unchanged(new: dict, old: dict) -> None:
    for field in FIXED_OS:
        if field in new and new[field] != old.get(field):
            raise ArmError(409, "PropertyChangeNotAllowed", f"Changing property '{field}' is not allowed.",
                           target=field)
    new_keys = ((new.get("linuxConfiguration") or {}).get("ssh") or {}).get("publicKeys")
    old_keys = ((old.get("linuxConfiguration") or {}).get("ssh") or {}).get("publicKeys")
    if new_keys is not None and new_keys != old_keys:
        raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'linuxConfiguration.ssh.publicKeys' is "
                       "not allowed.", target="linuxConfiguration.ssh.publicKeys")


def _check_storage(storage: dict) -> None:
    os_disk = storage.get("osDisk") or {}
    if not storage.get("imageReference") and str(os_disk.get("createOption", "")).lower() != "attach":
        raise bad("Required parameter 'storageProfile.imageReference' is missing (null).", "imageReference")


def _check_nics(ctx, rid: str, network: dict) -> None:
    nics = network.get("networkInterfaces") or []
    if not nics:
        raise bad("Required parameter 'networkProfile' is missing (null).", "networkProfile")
    for ref in nics:
        nic = ctx.get(ref.get("id", ""))
        if nic is None:
            raise ArmError(400, "InvalidParameter", f"Network interface {ref.get('id')} was not found.",
                           target="networkProfile.networkInterfaces")
        user = (nic.get("properties", {}).get("virtualMachine") or {}).get("id")
        if user and user.lower() != rid.lower():
            raise ArmError(400, "NicInUse", f"Network Interface {ref.get('id')} is used by existing resource "
                           f"{user}. In order to create a new resource or update an existing one with this network "
                           "interface, you must first delete the resource that uses it.")


def populate_vm(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = (existing or {}).get("properties", {})
    props = {**old, **(body.get("properties") or {})}
    os_profile = {k: v for k, v in (props.get("osProfile") or {}).items() if k not in WRITE_ONLY}
    os_profile.setdefault("computerName", rid_parts(rid)["name"])
    os_profile.setdefault("allowExtensionOperations", True)
    props.update(osProfile=os_profile, vmId=old.get("vmId") or ctx.new_guid(),
                 timeCreated=old.get("timeCreated") or iso(ctx))
    props["storageProfile"] = _os_disk(ctx, rid, body, props.get("storageProfile") or {},
                                       (old.get("storageProfile") or {}).get("osDisk") or {})
    _attach_nics(ctx, rid, props.get("networkProfile") or {})
    stored = {**body, "properties": props}
    identity = fill_identity(ctx, body, existing)
    if identity:
        stored["identity"] = identity
    return stored


def _os_disk(ctx, rid: str, body: dict, storage: dict, old_disk: dict) -> dict:
    """Fill the OS disk (an update keeps the disk it has) and make it exist as a disks resource attached to
    this VM."""
    os_disk = {**old_disk, **(storage.get("osDisk") or {})}
    managed = {**(old_disk.get("managedDisk") or {}), **(os_disk.get("managedDisk") or {})}
    name = os_disk.get("name") or f"{rid_parts(rid)['name']}_OsDisk_1_{ctx.new_guid().replace('-', '')}"
    disk_id = managed.get("id") or f"{rid.split('/providers/')[0]}/providers/{DISK}/{name}"
    sku = managed.get("storageAccountType") or "Premium_LRS"
    disk = ctx.get(disk_id)
    if disk is None:
        disk = disk_body(ctx, disk_id, {"location": body.get("location"), "sku": {"name": sku}, "properties": {
            "osType": "Linux", "creationData": {"createOption": "FromImage"},
            "diskSizeGB": os_disk.get("diskSizeGB") or 30}}, None)
        disk.update(id=disk_id, name=disk_id.rsplit("/", 1)[-1], type=DISK)
    disk = {**disk, "managedBy": rid}
    disk["properties"] = {**disk["properties"], "diskState": "Attached", "provisioningState": "Succeeded"}
    ctx.put_internal(disk_id, disk)
    managed.update(id=disk_id, storageAccountType=disk["sku"]["name"])
    os_disk.update(name=disk["name"], managedDisk=managed, osType="Linux", caching=os_disk.get("caching")
                   or "ReadWrite", createOption=os_disk.get("createOption") or "FromImage",
                   deleteOption=os_disk.get("deleteOption") or "Detach", diskSizeGB=disk["properties"]["diskSizeGB"])
    image = dict(storage.get("imageReference") or {})
    if image:
        image["exactVersion"] = image.get("version") if image.get("version") not in (None, "latest") else "1.0.0"
    return {**storage, "osDisk": os_disk, **({"imageReference": image} if image else {}), "dataDisks":
            storage.get("dataDisks") or []}


def _attach_nics(ctx, rid: str, network: dict) -> None:
    for ref in network.get("networkInterfaces") or []:
        nic = ctx.get(ref.get("id", ""))
        if nic is not None:
            ctx.put_internal(nic["id"], {**nic, "properties": {**nic.get("properties", {}),
                                                               "virtualMachine": {"id": rid}}})


def after_delete_vm(ctx, rid: str, body: dict) -> None:
    """Release the NICs and the OS disk; delete those whose deleteOption says so."""
    props = body.get("properties", {})
    for ref in (props.get("networkProfile") or {}).get("networkInterfaces") or []:
        nic = ctx.get(ref.get("id", ""))
        if nic is None:
            continue
        if str((ref.get("properties") or {}).get("deleteOption", "")).lower() == "delete":
            ctx.delete_internal(nic["id"])
        else:
            nic_props = {k: v for k, v in nic.get("properties", {}).items() if k != "virtualMachine"}
            ctx.put_internal(nic["id"], {**nic, "properties": nic_props})
    os_disk = (props.get("storageProfile") or {}).get("osDisk") or {}
    disk = ctx.get((os_disk.get("managedDisk") or {}).get("id", ""))
    if disk is None:
        return
    if str(os_disk.get("deleteOption", "")).lower() == "delete":
        ctx.delete_internal(disk["id"])
    else:
        released = {k: v for k, v in disk.items() if k != "managedBy"}
        released["properties"] = {**disk["properties"], "diskState": "Unattached"}
        ctx.put_internal(disk["id"], released)


register(ResourceType(
    type=DISK, api_versions=DISK_API, put="location", patch="location", delete="async", duration="disk", etag=False,
    name_rule=r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]",
    name_hint="The disk name must be 1-80 letters, digits, '_', '.' and '-', ending with a letter, digit or '_'.",
    validate=validate_disk, populate=disk_body, before_delete=before_delete_disk,
    read_only_props=("diskState", "uniqueId", "timeCreated", "diskSizeBytes", "provisioningState")))
register(ResourceType(
    type=VM, api_versions=VM_API, put="async_op", patch="body", delete="async", duration="vm",
    name_rule=r"[A-Za-z0-9][A-Za-z0-9-]{0,63}",
    name_hint="Linux VM names must be 1-64 letters, digits and '-'.",
    validate=validate_vm, populate=populate_vm, after_delete=after_delete_vm,
    read_only_props=("vmId", "timeCreated", "provisioningState", "instanceView")))
