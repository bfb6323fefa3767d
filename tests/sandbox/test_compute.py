"""The jumpbox VM and managed disks in the sandbox, driven by the real azure-mgmt-compute client (the NIC comes from
the network types through azure-mgmt-network)."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from .test_identity_rbac import as_json, code_of, raw

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ1bXBib3gta2V5LWZvci10ZXN0cw== azadmin@codemie"


class Cloud:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.compute = sandbox.client(ComputeManagementClient)
        self.network = sandbox.client(NetworkManagementClient)
        sandbox.client(ResourceManagementClient).resource_groups.create_or_update("rg-vm", {"location": "westeurope"})
        self.rg = f"/subscriptions/{sandbox.subscription_id}/resourceGroups/rg-vm"
        self.network.virtual_networks.begin_create_or_update("rg-vm", "AksVNet", raw({
            "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]}}})).result()
        self.network.subnets.begin_create_or_update("rg-vm", "AksVNet", "VMSubnet", raw({
            "properties": {"addressPrefix": "10.10.1.0/24"}})).result()

    def nic(self, name: str) -> str:
        subnet = f"{self.rg}/providers/Microsoft.Network/virtualNetworks/AksVNet/subnets/VMSubnet"
        body = {"location": "westeurope", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
            "privateIPAllocationMethod": "Dynamic", "subnet": {"id": subnet}}}]}}
        return self.network.network_interfaces.begin_create_or_update("rg-vm", name, raw(body)).result().id

    def vm(self, name: str, body: dict):
        return self.compute.virtual_machines.begin_create_or_update("rg-vm", name, raw(body), cls=as_json).result()


def vm_body(nic_id: str, keys: list[dict] | None = None, admin: str = "azadmin") -> dict:
    ssh = [{"path": f"/home/{admin}/.ssh/authorized_keys", "keyData": KEY}] if keys is None else keys
    return {"location": "westeurope", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
        "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                                              "sku": "server", "version": "latest"},
                           "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
        "osProfile": {"computerName": "codemie-vm", "adminUsername": admin, "adminPassword": "N0t-used-here!",
                      "customData": "I2Nsb3VkLWNvbmZpZw==",
                      "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": ssh}}},
        "networkProfile": {"networkInterfaces": [{"id": nic_id}]}}}


@pytest.fixture
def cloud(sandbox) -> Cloud:
    return Cloud(sandbox)


def test_jumpbox_create_attaches_nic_and_os_disk_and_hides_secrets(cloud, sandbox):
    nic = cloud.nic("codemie-vm-nic")
    made = cloud.vm("CodeMieVM", vm_body(nic))
    props = made["properties"]
    assert props["provisioningState"] == "Succeeded"
    assert "adminPassword" not in props["osProfile"] and "customData" not in props["osProfile"]
    assert props["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"][0]["keyData"] == KEY
    disk_id = props["storageProfile"]["osDisk"]["managedDisk"]["id"]
    disk = cloud.compute.disks.get("rg-vm", disk_id.rsplit("/", 1)[-1])
    assert disk.managed_by == made["id"] and disk.disk_state == "Attached"
    tagged = cloud.compute.disks.begin_update("rg-vm", disk.name, raw({"tags": {"vm": "jumpbox"}})).result()
    assert tagged.managed_by == made["id"] and tagged.tags == {"vm": "jumpbox"}
    assert sandbox.get(nic)["properties"]["virtualMachine"]["id"] == made["id"]
    stored = json.dumps(sandbox.get(made["id"]))
    assert "N0t-used-here!" not in stored and "I2Nsb3VkLWNvbmZpZw==" not in stored


def test_password_sign_in_disabled_needs_an_ssh_key_at_the_default_path(cloud):
    nic = cloud.nic("codemie-vm-nic")
    with pytest.raises(HttpResponseError) as err:
        cloud.vm("CodeMieVM", vm_body(nic, keys=[]))
    assert err.value.status_code == 400 and code_of(err.value) == "InvalidParameter"
    with pytest.raises(HttpResponseError) as err:
        cloud.vm("CodeMieVM", vm_body(nic, keys=[{"path": "/root/.ssh/authorized_keys", "keyData": KEY}]))
    assert code_of(err.value) == "InvalidParameter"
    with pytest.raises(HttpResponseError) as err:
        cloud.vm("CodeMieVM", vm_body(nic, keys=[{"path": "/home/azadmin/.ssh/authorized_keys", "keyData": "x"}]))
    assert code_of(err.value) == "InvalidParameter"


def test_vm_needs_an_existing_nic_used_by_no_other_vm(cloud):
    missing = f"{cloud.rg}/providers/Microsoft.Network/networkInterfaces/absent"
    with pytest.raises(HttpResponseError) as err:
        cloud.vm("CodeMieVM", vm_body(missing))
    assert err.value.status_code == 400
    nic = cloud.nic("codemie-vm-nic")
    cloud.vm("CodeMieVM", vm_body(nic))
    with pytest.raises(HttpResponseError) as err:
        cloud.vm("OtherVM", vm_body(nic))
    assert code_of(err.value) == "NicInUse"


def test_os_profile_is_fixed_after_create(cloud):
    nic = cloud.nic("codemie-vm-nic")
    cloud.vm("CodeMieVM", vm_body(nic))
    with pytest.raises(ResourceExistsError) as err:
        cloud.vm("CodeMieVM", vm_body(nic, admin="root2"))
    assert code_of(err.value) == "PropertyChangeNotAllowed"
    resized = vm_body(nic)
    resized["properties"]["hardwareProfile"]["vmSize"] = "Standard_D8s_v5"
    assert cloud.vm("CodeMieVM", resized)["properties"]["hardwareProfile"]["vmSize"] == "Standard_D8s_v5"
    patched = cloud.compute.virtual_machines.begin_update("rg-vm", "CodeMieVM", raw({"tags": {"role": "jumpbox"}}),
                                                          cls=as_json).result()
    assert patched["tags"] == {"role": "jumpbox"} and patched["properties"]["provisioningState"] == "Succeeded"


def test_deleting_the_vm_releases_nic_and_keeps_a_detached_os_disk(cloud, sandbox):
    nic = cloud.nic("codemie-vm-nic")
    made = cloud.vm("CodeMieVM", vm_body(nic))
    disk_name = made["properties"]["storageProfile"]["osDisk"]["name"]
    with pytest.raises(ResourceExistsError) as err:
        cloud.compute.disks.begin_delete("rg-vm", disk_name).result()
    assert code_of(err.value) == "OperationNotAllowed"
    cloud.compute.virtual_machines.begin_delete("rg-vm", "CodeMieVM").result()
    with pytest.raises(ResourceNotFoundError):
        cloud.compute.virtual_machines.get("rg-vm", "CodeMieVM")
    assert "virtualMachine" not in sandbox.get(nic)["properties"]
    assert cloud.compute.disks.get("rg-vm", disk_name).disk_state == "Unattached"
    cloud.compute.disks.begin_delete("rg-vm", disk_name).result()
    with pytest.raises(ResourceNotFoundError):
        cloud.compute.disks.get("rg-vm", disk_name)


def test_os_disk_with_delete_option_goes_with_the_vm(cloud, sandbox):
    nic = cloud.nic("codemie-vm-nic")
    body = vm_body(nic)
    body["properties"]["storageProfile"]["osDisk"]["deleteOption"] = "Delete"
    disk_id = cloud.vm("CodeMieVM", body)["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
    cloud.compute.virtual_machines.begin_delete("rg-vm", "CodeMieVM").result()
    assert sandbox.get(disk_id) is None


def test_empty_data_disk_crud(cloud):
    disks = cloud.compute.disks
    with pytest.raises(HttpResponseError) as err:
        disks.begin_create_or_update("rg-vm", "data1", raw({"location": "westeurope", "properties": {
            "creationData": {"createOption": "Empty"}}})).result()
    assert code_of(err.value) == "InvalidParameter"
    made = disks.begin_create_or_update("rg-vm", "data1", raw({
        "location": "westeurope", "sku": {"name": "Premium_LRS"},
        "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 64}}), cls=as_json).result()
    assert made["properties"]["diskState"] == "Unattached" and made["sku"]["tier"] == "Premium"
    assert [d.name for d in disks.list_by_resource_group("rg-vm")] == ["data1"]
    disks.begin_delete("rg-vm", "data1").result()
    with pytest.raises(ResourceNotFoundError):
        disks.get("rg-vm", "data1")


def test_update_without_disk_names_keeps_the_os_disk(cloud):
    nic = cloud.nic("codemie-vm-nic")
    first = cloud.vm("CodeMieVM", vm_body(nic))["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
    again = cloud.vm("CodeMieVM", vm_body(nic))["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
    assert again == first
    assert [d.id for d in cloud.compute.disks.list_by_resource_group("rg-vm")] == [first]
