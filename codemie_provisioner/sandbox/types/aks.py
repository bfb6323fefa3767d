"""AKS managed clusters and their agent pools.

Why: the cluster is the slowest and most stateful resource of the stack, and AKS has rules a naive client
trips over: every cluster and agent-pool write is serialized on the cluster (409 `OperationNotAllowed`), pools
sent inline are honoured only when the cluster is created (a cluster PUT that introduces a new pool is a 400),
the version must be one the region supports, and the cluster hands back server-made values the next phases need
(private FQDN, OIDC issuer URL, kubelet identity in the node resource group `MC_<rg>_<name>_<location>`).
Inline pools become `agentPools` child resources and the cluster's `agentPoolProfiles` always mirror them.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re

from ..model import ArmError, ResourceType, register, route
from .data import check_api, norm_location, rid_parts
from .identity import ROLE_ASSIGNMENT, bad, dig, fill_identity, identity_body, role_guid

API = ("2026-08-01",)
CLUSTER = "Microsoft.ContainerService/managedClusters"
POOL = f"{CLUSTER}/agentPools"
UAI = "Microsoft.ManagedIdentity/userAssignedIdentities"
K8S_VERSIONS = ("1.31.10", "1.31.11", "1.32.6", "1.32.7", "1.33.3", "1.33.5", "1.34.1", "1.34.2")
DEFAULT_VERSION = "1.33.5"
TAINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]*(=[A-Za-z0-9_.-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)")
DNS_PREFIX = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,52}[A-Za-z0-9])?")
# Roles that let a control-plane identity write records into a customer-supplied private DNS zone.
ZONE_WRITERS = {"b12aa53e-6015-4669-85d0-8515ebb3ae7f", "b24988ac-6180-42a0-ab88-20f7382dd24c",
                "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"}
IMMUTABLE_CLUSTER = (("dnsPrefix",), ("apiServerAccessProfile", "enablePrivateCluster"),
                     ("networkProfile", "networkPlugin"))
IMMUTABLE_POOL = ("vmSize", "vnetSubnetID", "osType")
POOL_DEFAULTS = {"count": 1, "vmSize": "Standard_D4ds_v5", "osDiskSizeGB": 128, "osDiskType": "Managed",
                 "kubeletDiskType": "OS", "maxPods": 250, "type": "VirtualMachineScaleSets", "osType": "Linux",
                 "osSKU": "Ubuntu", "enableAutoScaling": False, "enableNodePublicIP": False, "scaleSetPriority":
                 "Regular", "enableFIPS": False, "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202511.07.0",
                 "upgradeSettings": {"maxSurge": "10%"}}


def _vkey(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def resolve_version(requested: str | None, default: str = DEFAULT_VERSION) -> str:
    """A supported patch version for `requested` ("1.33" means its newest patch); 400 when unsupported."""
    if not requested:
        return default
    matches = [v for v in K8S_VERSIONS if v == requested or v.rsplit(".", 1)[0] == requested]
    if not matches:
        raise ArmError(400, "AgentPoolK8sVersionNotSupported", f"Version {requested} is not supported in this "
                       "region. Please use [az aks get-versions] command to get the supported version list in "
                       "this region.")
    return max(matches, key=_vkey)


def _short_hash(rid: str) -> str:
    return hashlib.sha256(rid.lower().encode()).hexdigest()[:8]


# ---------------------------------------------------------------- agent pools


def _validate_pool(ctx, name: str, props: dict, old: dict | None) -> None:
    """Field rules shared by inline pools and agentPools resources."""
    where = f"agentPoolProfile '{name}'"
    auto = props.get("enableAutoScaling")
    count, low, high = props.get("count"), props.get("minCount"), props.get("maxCount")
    if auto and (low is None or high is None or low > high or (count is not None and not low <= count <= high)):
        raise bad(f"{where}: autoscaling needs minCount <= count <= maxCount.", "agentPoolProfile.count")
    if str(props.get("mode", "User")).lower() == "system" and (count == 0 or (auto and low == 0)):
        raise bad(f"{where}: a System pool needs at least one node.", "agentPoolProfile.count")
    for taint in props.get("nodeTaints") or []:
        if not TAINT.fullmatch(str(taint)):
            raise bad(f"{where}: taint '{taint}' must look like key=value:NoSchedule.", "nodeTaints")
    subnet = props.get("vnetSubnetID")
    if subnet and ctx.rule("validation") and ctx.get(subnet) is None:
        raise bad(f"{where}: subnet {subnet} does not exist.", "vnetSubnetID")
    for field in IMMUTABLE_POOL if old else ():
        if field in props and str(props[field]).lower() != str(old.get(field, "")).lower():
            raise ArmError(400, "PropertyChangeNotAllowed", f"Changing property '{field}' is not allowed.",
                           target=field)


def _pool_props(ctx, props: dict, old: dict | None, cluster_version: str, mode: str) -> dict:
    merged = {**POOL_DEFAULTS, "mode": mode, **(old or {}), **props}
    if merged.get("enableAutoScaling") and "count" not in props:
        merged["count"] = (old or {}).get("count") or merged.get("minCount")
    requested = props.get("orchestratorVersion") or (old or {}).get("orchestratorVersion") or cluster_version
    merged.update(orchestratorVersion=requested, currentOrchestratorVersion=resolve_version(requested),
                  powerState={"code": "Running"}, provisioningState="Succeeded")
    return merged


def _pool_body(cluster_id: str, name: str, props: dict) -> dict:
    return {"id": f"{cluster_id}/agentPools/{name}", "name": name, "type": POOL, "properties": props}


def _cluster_version(cluster: dict | None) -> str:
    props = (cluster or {}).get("properties", {})
    return props.get("currentKubernetesVersion") or props.get("kubernetesVersion") or DEFAULT_VERSION


def _mirror_pools(ctx, cluster_id: str, replace: dict | None = None, drop: str | None = None) -> None:
    """Rewrite the cluster's agentPoolProfiles from its pools (with one pool replaced or dropped)."""
    cluster = ctx.get(cluster_id)
    if cluster is None:
        return
    pools = {p["name"].lower(): p for p in ctx.children(cluster_id, POOL)}
    if replace:
        pools[replace["name"].lower()] = replace
    pools.pop((drop or "").lower(), None)
    profiles = [{"name": p["name"], **p.get("properties", {})} for p in pools.values()]
    ctx.put_internal(cluster_id, {**cluster, "properties": {**cluster["properties"], "agentPoolProfiles": profiles}})


def validate_pool(ctx, rid: str, body: dict, existing: dict | None) -> None:
    cluster_id = rid.rsplit("/", 2)[0]
    props = body.get("properties") or {}
    _validate_pool(ctx, rid_parts(rid)["name"], props, (existing or {}).get("properties"))
    if props.get("orchestratorVersion"):
        wanted, control_plane = resolve_version(props["orchestratorVersion"]), _cluster_version(ctx.get(cluster_id))
        if _vkey(wanted) > _vkey(control_plane):
            raise bad(f"Node pool version {wanted} cannot be greater than the control plane version "
                      f"{control_plane}.", "orchestratorVersion")


def populate_pool(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    cluster_id = rid.rsplit("/", 2)[0]
    name = rid_parts(rid)["name"]
    props = _pool_props(ctx, body.get("properties") or {}, (existing or {}).get("properties"),
                        _cluster_version(ctx.get(cluster_id)), "User")
    stored = {**body, **_pool_body(cluster_id, name, props)}
    _mirror_pools(ctx, cluster_id, replace=stored)
    return stored


def before_delete_pool(ctx, rid: str, body: dict) -> None:
    if str(body.get("properties", {}).get("mode", "")).lower() != "system":
        return
    cluster_id = rid.rsplit("/", 2)[0]
    others = [p for p in ctx.children(cluster_id, POOL) if p["name"].lower() != rid_parts(rid)["name"].lower()
              and str(p.get("properties", {}).get("mode", "")).lower() == "system"]
    if not others:
        raise ArmError(400, "OperationNotAllowed", "There has to be at least one system agent pool.")


def after_delete_pool(ctx, rid: str, body: dict) -> None:
    _mirror_pools(ctx, rid.rsplit("/", 2)[0], drop=rid_parts(rid)["name"])


# ---------------------------------------------------------------- cluster validation


def validate_cluster(ctx, rid: str, body: dict, existing: dict | None) -> None:
    props = body.get("properties") or {}
    old = (existing or {}).get("properties")
    resolve_version(props.get("kubernetesVersion"))
    _check_inline_pools(ctx, rid, props, existing)
    if not ctx.rule("validation"):
        return
    _check_immutable(props, old)
    prefix = props.get("dnsPrefix")
    if prefix and not DNS_PREFIX.fullmatch(prefix):
        raise bad("dnsPrefix must be 1-54 letters, digits and '-', starting and ending with a letter or digit.",
                   "dnsPrefix")
    _check_identity_and_features(ctx, body, old)
    _check_network(ctx, props, existing)


def _check_inline_pools(ctx, rid: str, props: dict, existing: dict | None) -> None:
    pools = props.get("agentPoolProfiles") or []
    if existing is None:
        if not any(str(_inline_mode(pools, p)).lower() == "system" for p in pools):
            raise bad("Must define at least one system pool.", "agentPoolProfiles")
        for pool in pools:
            _validate_pool(ctx, str(pool.get("name", "")), pool, None)
            if not re.fullmatch(r"[a-z][a-z0-9]{0,11}", str(pool.get("name", ""))):
                raise bad(f"Agent pool name '{pool.get('name')}' must be 1-12 lowercase letters and digits.",
                           "agentPoolProfiles.name")
        return
    have = {p["name"].lower(): p.get("properties", {}) for p in ctx.children(rid, POOL)}
    for pool in pools:
        if str(pool.get("name", "")).lower() not in have:
            raise ArmError(400, "BadRequest", "A new agent pool was introduced. Adding agent pools to an existing "
                           "cluster is not allowed through managed cluster operations. For agent pool specific "
                           "change, please use per agent pool operations.", target="agentPoolProfiles")
        _validate_pool(ctx, pool["name"], pool, have[pool["name"].lower()])


def _inline_mode(pools: list[dict], pool: dict) -> str:
    """At create, a pool without a mode is the System pool when it is first and no pool names a mode."""
    if pool.get("mode"):
        return pool["mode"]
    return "System" if pool is pools[0] and not any(p.get("mode") for p in pools) else "User"


def _check_immutable(props: dict, old: dict | None) -> None:
    for path in IMMUTABLE_CLUSTER if old else ():
        new_value, old_value = dig(props, path), dig(old, path)
        if new_value is not None and old_value is not None and str(new_value).lower() != str(old_value).lower():
            raise ArmError(400, "PropertyChangeNotAllowed", f"Changing property '{'.'.join(path)}' is not allowed.",
                           target=".".join(path))


def _check_identity_and_features(ctx, body: dict, old: dict | None) -> None:
    props = body.get("properties") or {}
    ident = body.get("identity") or {}
    if len(ident.get("userAssignedIdentities") or {}) > 1:
        raise bad("Only one user assigned identity is allowed for the control plane.", "identity")
    if dig(props, ("securityProfile", "workloadIdentity", "enabled")) and \
            not dig(props, ("oidcIssuerProfile", "enabled")):
        raise bad("Enabling workload identity requires enabling the OIDC issuer profile.", "oidcIssuerProfile")
    if dig(old, ("oidcIssuerProfile", "enabled")) and dig(props, ("oidcIssuerProfile", "enabled")) is False:
        raise bad("The OIDC issuer cannot be disabled once it is enabled.", "oidcIssuerProfile.enabled")
    for group in dig(props, ("aadProfile", "adminGroupObjectIDs")) or []:
        if not re.fullmatch(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", str(group)):
            raise bad(f"Admin group object id '{group}' is not a GUID.", "aadProfile.adminGroupObjectIDs")
    workspace = dig(props, ("addonProfiles", "omsagent", "config", "logAnalyticsWorkspaceResourceID"))
    if dig(props, ("addonProfiles", "omsagent", "enabled")) and workspace and ctx.get(workspace) is None:
        raise bad(f"Log Analytics workspace {workspace} was not found.", "addonProfiles.omsagent")
    _check_private_zone(ctx, ident, props)


def _check_private_zone(ctx, ident: dict, props: dict) -> None:
    """A customer-supplied private DNS zone needs a user-assigned control-plane identity allowed to write it."""
    zone = str(dig(props, ("apiServerAccessProfile", "privateDNSZone")) or "")
    if not zone.startswith("/"):
        return
    uids = list(ident.get("userAssignedIdentities") or {})
    if "userassigned" not in str(ident.get("type", "")).lower() or not uids:
        raise bad("A custom private DNS zone needs a user-assigned control-plane identity.",
                   "apiServerAccessProfile.privateDNSZone")
    principal = (ctx.get(uids[0]) or {}).get("properties", {}).get("principalId", "")
    for ra in ctx.find(ROLE_ASSIGNMENT):
        ra_props = ra.get("properties", {})
        scope = str(ra_props.get("scope", "")).lower()
        if ra_props.get("principalId", "").lower() == str(principal).lower() and \
                role_guid(ra_props.get("roleDefinitionId")) in ZONE_WRITERS and \
                (zone.lower() == scope or zone.lower().startswith(scope + "/")):
            return
    raise ArmError(400, "CustomPrivateDNSZoneMissingPermission", f"Control plane identity does not have "
                   f"permission to update private DNS zone {zone}.", target="apiServerAccessProfile.privateDNSZone")


def _check_network(ctx, props: dict, existing: dict | None) -> None:
    net = props.get("networkProfile") or {}
    pools = props.get("agentPoolProfiles") or [
        {"name": p["name"], **p.get("properties", {})} for p in ctx.children((existing or {}).get("id", ""), POOL)]
    subnets = [ctx.get(p["vnetSubnetID"]) for p in pools if p.get("vnetSubnetID")]
    outbound = str(net.get("outboundType") or "loadBalancer")
    needs = {"userAssignedNATGateway": "natGateway", "userDefinedRouting": "routeTable"}.get(outbound)
    if needs and (len(subnets) < len(pools) or not all((s or {}).get("properties", {}).get(needs) for s in subnets)):
        raise bad(f"outboundType {outbound} needs every pool in a subnet with a {needs} associated.",
                   "networkProfile.outboundType")
    service = net.get("serviceCidr")
    if not service:
        return
    try:
        cidr = ipaddress.ip_network(service, strict=False)
        dns_ip = ipaddress.ip_address(net.get("dnsServiceIP") or cidr[10])
    except ValueError as exc:
        raise bad(f"serviceCidr/dnsServiceIP are not valid: {exc}", "networkProfile.serviceCidr") from exc
    if dns_ip not in cidr:
        raise bad("dnsServiceIP must be inside serviceCidr.", "networkProfile.dnsServiceIP")
    for subnet in filter(None, subnets):
        sp = subnet.get("properties", {})
        for prefix in sp.get("addressPrefixes") or [sp.get("addressPrefix")]:
            if prefix and ipaddress.ip_network(prefix, strict=False).overlaps(cidr):
                raise ArmError(400, "ServiceCidrOverlapExistingSubnetsCidr", f"The specified service CIDR {service} "
                               f"is conflicted with an existing subnet CIDR {prefix}.", target="networkProfile")


# ---------------------------------------------------------------- cluster server fields


def populate_cluster(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    parts = rid_parts(rid)
    old = (existing or {}).get("properties", {})
    props = {**old, **(body.get("properties") or {})}
    loc = norm_location(body.get("location") or (existing or {}).get("location", ""))
    props.setdefault("dnsPrefix", f"{parts['name'][:20]}-{parts['resourceGroup'][:20]}-{parts['subscription'][:6]}")
    props.setdefault("nodeResourceGroup", f"MC_{parts['resourceGroup']}_{parts['name']}_{loc}")
    props["currentKubernetesVersion"] = resolve_version(props.get("kubernetesVersion"))
    props.setdefault("kubernetesVersion", props["currentKubernetesVersion"])
    _fill_endpoints(ctx, rid, props, old, loc)
    _fill_defaults(ctx, props)
    _fill_node_identities(ctx, rid, props, old, loc)
    props["agentPoolProfiles"] = _sync_inline_pools(ctx, rid, props, existing)
    stored = {**body, "properties": props, "sku": body.get("sku") or {"name": "Base", "tier": "Free"}}
    identity = fill_identity(ctx, body, existing)
    if identity:
        stored["identity"] = identity
    return stored


def _fill_endpoints(ctx, rid: str, props: dict, old: dict, loc: str) -> None:
    host = f"{props['dnsPrefix']}-{_short_hash(rid)}"
    api = props.setdefault("apiServerAccessProfile", {})
    private = bool(api.get("enablePrivateCluster"))
    for key in ("fqdn", "privateFQDN", "azurePortalFQDN"):
        props.pop(key, None)
    if private:
        zone_id = str(api.get("privateDNSZone") or "system")
        api.setdefault("privateDNSZone", "system")
        label = old.get("privateFQDN", "").split(".")[1:2] or [ctx.new_guid()]
        zone = zone_id.rsplit("/", 1)[-1] if zone_id.startswith("/") else f"privatelink.{loc}.azmk8s.io"
        props["privateFQDN"] = f"{host}.{label[0]}.{zone}" if zone.startswith("privatelink.") else f"{host}.{zone}"
        props["azurePortalFQDN"] = f"{host}.portal.hcp.{loc}.azmk8s.io"
    if not private or api.get("enablePrivateClusterPublicFQDN"):
        props["fqdn"] = f"{host}.hcp.{loc}.azmk8s.io"
        props["azurePortalFQDN"] = f"{host}.portal.hcp.{loc}.azmk8s.io"
    oidc = props.setdefault("oidcIssuerProfile", {"enabled": False})
    if oidc.get("enabled"):
        issuer = dig(old, ("oidcIssuerProfile", "issuerURL")) or \
            f"https://{loc}.oic.prod-aks.azure.com/{ctx.tenant_id}/{ctx.new_guid()}/"
        oidc["issuerURL"] = issuer


def _fill_defaults(ctx, props: dict) -> None:
    net = props.setdefault("networkProfile", {})
    plugin = net.setdefault("networkPlugin", "azure")
    if plugin == "azure":
        net.setdefault("networkPluginMode", "overlay")
    net.setdefault("serviceCidr", "10.0.0.0/16")
    net.setdefault("dnsServiceIP", "10.0.0.10")
    if plugin == "kubenet" or net.get("networkPluginMode") == "overlay":
        net.setdefault("podCidr", "10.244.0.0/16")
        net["podCidrs"] = [net["podCidr"]]
    net.update(outboundType=net.get("outboundType") or "loadBalancer", loadBalancerSku=net.get("loadBalancerSku")
               or "standard", serviceCidrs=[net["serviceCidr"]], ipFamilies=net.get("ipFamilies") or ["IPv4"])
    aad = props.get("aadProfile")
    if aad:
        aad.setdefault("tenantID", ctx.tenant_id)
    props.setdefault("enableRBAC", True)
    props.setdefault("supportPlan", "KubernetesOfficial")
    props.setdefault("servicePrincipalProfile", {"clientId": "msi"})
    props.setdefault("autoUpgradeProfile", {"nodeOSUpgradeChannel": "NodeImage"})
    props.setdefault("securityProfile", {})
    props.update(maxAgentPools=100, powerState={"code": "Running"}, provisioningState="Succeeded")


def _fill_node_identities(ctx, rid: str, props: dict, old: dict, loc: str) -> None:
    """The kubelet identity (and the monitoring add-on's) live in the node resource group, created on demand."""
    node_rg = f"/subscriptions/{rid_parts(rid)['subscription']}/resourceGroups/{props['nodeResourceGroup']}"
    name = rid_parts(rid)["name"]
    kubelet = dig(props, ("identityProfile", "kubeletidentity")) or {}
    given = kubelet.get("resourceId")
    kubelet_id = given or f"{node_rg}/providers/{UAI}/{name}-agentpool"
    found = ctx.get(kubelet_id) if given else _ensure_identity(ctx, node_rg, kubelet_id, rid, loc)
    if found is None:
        raise bad(f"Kubelet identity {given} was not found.", "identityProfile.kubeletidentity")
    props["identityProfile"] = {"kubeletidentity": _identity_ref(found)}
    oms = dig(props, ("addonProfiles", "omsagent"))
    if oms and oms.get("enabled"):
        oms_id = f"{node_rg}/providers/{UAI}/omsagent-{name}"
        oms["identity"] = _identity_ref(_ensure_identity(ctx, node_rg, oms_id, rid, loc))


def _identity_ref(identity: dict) -> dict:
    props = identity.get("properties", {})
    return {"resourceId": identity["id"], "clientId": props.get("clientId"), "objectId": props.get("principalId")}


def _ensure_identity(ctx, node_rg: str, identity_id: str, cluster_id: str, loc: str) -> dict:
    if ctx.get(node_rg) is None:
        ctx.put_internal(node_rg, {"id": node_rg, "name": node_rg.rsplit("/", 1)[-1],
                                   "type": "Microsoft.Resources/resourceGroups", "location": loc,
                                   "managedBy": cluster_id, "tags": {}, "properties": {"provisioningState":
                                                                                      "Succeeded"}})
    found = ctx.get(identity_id)
    if found is None:
        found = identity_body(ctx, identity_id, loc)
        ctx.put_internal(identity_id, found)
    return found


def _sync_inline_pools(ctx, rid: str, props: dict, existing: dict | None) -> list[dict]:
    """Create or update the pool resources named inline; return the full mirrored list."""
    current = {p["name"].lower(): p for p in ctx.children(rid, POOL)} if existing else {}
    pools = props.get("agentPoolProfiles") or []
    for pool in pools:
        fields = {k: v for k, v in pool.items() if k != "name"}
        old = current.get(pool["name"].lower(), {}).get("properties")
        pool_props = _pool_props(ctx, fields, old, props["kubernetesVersion"], _inline_mode(pools, pool))
        current[pool["name"].lower()] = _pool_body(rid, pool["name"], pool_props)
        ctx.put_internal(f"{rid}/agentPools/{pool['name']}", current[pool["name"].lower()])
    return [{"name": p["name"], **p["properties"]} for p in current.values()]


def after_delete_cluster(ctx, rid: str, body: dict) -> None:
    """Deleting a cluster removes its node resource group with everything in it (pools go with the cluster)."""
    node_rg = body.get("properties", {}).get("nodeResourceGroup")
    if node_rg:
        ctx.delete_internal(f"/subscriptions/{rid_parts(rid)['subscription']}/resourceGroups/{node_rg}")


# ---------------------------------------------------------------- actions and location routes


def _kubeconfig(body: dict, user: str) -> str:
    props = body.get("properties", {})
    server = props.get("privateFQDN") or props.get("fqdn")
    text = (f"apiVersion: v1\nkind: Config\nclusters:\n- name: {body.get('name')}\n  cluster:\n"
            f"    server: https://{server}:443\nusers:\n- name: {user}\n  user:\n    exec:\n"
            f"      command: kubelogin\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
            f"contexts:\n- name: {body.get('name')}\n  context:\n    cluster: {body.get('name')}\n"
            f"    user: {user}\ncurrent-context: {body.get('name')}\n")
    return base64.b64encode(text.encode()).decode()


def list_user_credential(ctx, rid: str, stored: dict | None, body: dict):
    return 200, {"kubeconfigs": [{"name": "clusterUser", "value": _kubeconfig(stored or {}, "clusterUser")}]}


def list_admin_credential(ctx, rid: str, stored: dict | None, body: dict):
    if (stored or {}).get("properties", {}).get("disableLocalAccounts"):
        raise ArmError(400, "BadRequest", "Getting static credential is not allowed because this cluster is set "
                       "to disable local accounts.")
    return 200, {"kubeconfigs": [{"name": "clusterAdmin", "value": _kubeconfig(stored or {}, "clusterAdmin")}]}


@route("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.ContainerService/locations/(?P<loc>[^/]+)"
              r"/kubernetesVersions")
def list_kubernetes_versions(ctx, match, query: dict, body: dict | None):
    check_api(query, API)
    minors: dict[str, list[str]] = {}
    for version in K8S_VERSIONS:
        minors.setdefault(version.rsplit(".", 1)[0], []).append(version)
    default_minor = DEFAULT_VERSION.rsplit(".", 1)[0]
    values = [{"version": minor, "isDefault": minor == default_minor or None, "isPreview": None,
               "capabilities": {"supportPlan": ["KubernetesOfficial"]},
               "patchVersions": {v: {"upgrades": [u for u in K8S_VERSIONS if _vkey(u) > _vkey(v)]} for v in patches}}
              for minor, patches in minors.items()]
    return 200, {"values": values}, {}


register(ResourceType(
    type=CLUSTER, api_versions=API, put="async_op", patch="location", delete="async", duration="aks",
    lock="self", busy=(409, "OperationNotAllowed"),
    name_rule=r"[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?",
    name_hint="The name must be 1-63 letters, digits, '_' and '-', starting and ending with a letter or digit.",
    validate=validate_cluster, populate=populate_cluster, after_delete=after_delete_cluster,
    actions={"listClusterUserCredential": list_user_credential,
             "listClusterAdminCredential": list_admin_credential},
    read_only_props=("fqdn", "privateFQDN", "azurePortalFQDN", "currentKubernetesVersion", "maxAgentPools",
                     "powerState", "provisioningState")))
register(ResourceType(
    type=POOL, api_versions=API, put="async_op", delete="async", duration="agent_pool", location=False,
    lock=CLUSTER, busy=(409, "OperationNotAllowed"),
    name_rule=r"[a-z][a-z0-9]{0,11}", name_code="InvalidParameter",
    name_hint="Agent pool names must be 1-12 lowercase letters and digits, starting with a letter.",
    validate=validate_pool, populate=populate_pool, before_delete=before_delete_pool,
    after_delete=after_delete_pool,
    read_only_props=("currentOrchestratorVersion", "nodeImageVersion", "powerState", "provisioningState")))
