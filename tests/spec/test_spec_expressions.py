"""The expression language and its pure functions, without any file: evaluate strings in a small scope."""

from __future__ import annotations

import uuid

import pytest

from codemie_provisioner.spec import Call, ContextRef, Ref, SecretRef, Template, finish, iter_markers
from codemie_provisioner.spec.expr import NO_INDEX, ExprError, Scope, evaluate
from codemie_provisioner.spec.functions import ROLES, FunctionError, call_function

VARS = {"n": 3, "name": "Airun", "tags": {"a": "1"}, "flag": True, "nets": ["10.0.0.0/16"],
        "deep": {"list": [{"cidr": "10.1.0.0/24"}]}}


def scope(each=None, refs=True) -> Scope:
    def var(name):
        if name not in VARS:
            raise ExprError(f"unknown variable '{name}'")
        return VARS[name]

    def ref(name, index):
        return name if index is NO_INDEX else f"{name}[{index!r}]"

    return Scope(var=var, where="tests", each=each, ref=ref if refs else None, secret=lambda n, f: None)


def ev(text, **kw):
    return evaluate(text, scope(**kw))


def test_single_expression_keeps_the_value_type():
    assert ev("${var.n}") == 3
    assert ev("${var.tags}") == {"a": "1"}
    assert ev("${var.flag}") is True
    assert ev("${var.nets}") == ["10.0.0.0/16"]


def test_interpolation_makes_text():
    assert ev("n=${var.n}, flag=${var.flag}") == "n=3, flag=true"
    assert ev("${var.name}-${lower(var.name)}") == "Airun-airun"
    assert ev("cost $${not.an.expr}") == "cost ${not.an.expr}"


def test_paths_into_structured_variables():
    assert ev("${var.deep.list[0].cidr}") == "10.1.0.0/24"
    assert ev("${var.deep['list'][0]['cidr']}") == "10.1.0.0/24"
    with pytest.raises(ExprError, match=r"var.deep.list\[0\] has no key \"nope\""):
        ev("${var.deep.list[0].nope}")
    with pytest.raises(ExprError, match="var.n is a number"):
        ev("${var.n.x}")


def test_evaluate_walks_dicts_and_lists_and_reports_the_path():
    assert evaluate({"a": ["${var.n}", {"b": "x${var.n}"}]}, scope()) == {"a": [3, {"b": "x3"}]}
    with pytest.raises(ExprError) as info:
        evaluate({"a": ["ok", {"b": "${var.missing}"}]}, scope(), ("root",))
    assert info.value.path == ("root", "a", 1, "b")


def test_each_values_and_their_absence():
    each = {"key": "SystemSubnet", "value": {"cidr": "10.0.0.0/22"}, "index": 0}
    assert ev("${each.key}:${each.value.cidr}:${each.index}", each=each) == "SystemSubnet:10.0.0.0/22:0"
    with pytest.raises(ExprError, match="only available in a resource with for_each or count"):
        ev("${each.value}")
    with pytest.raises(ExprError, match="use each.index"):
        ev("${each.key}", each={"index": 1})


def test_refs_stay_markers_and_strings_become_templates():
    ref_out = ev("${ref.kv.out.properties.vaultUri}")
    assert ref_out == Ref("kv", "out", ("properties", "vaultUri"))
    assert ev("${ref.kv}") == Ref("kv") == ev("${ref.kv.id}")
    tpl = ev("${ref.kv.name}-pe")
    assert tpl == Template((Ref("kv", "name"), "-pe"))
    assert str(tpl) == "${ref.kv.name}-pe"
    assert finish(tpl, lambda m: "codemie-kv") == "codemie-kv-pe"
    with pytest.raises(ExprError, match="not allowed in tests"):
        ev("${ref.kv}", refs=False)
    with pytest.raises(ExprError, match="expected .id, .name or .out"):
        ev("${ref.kv.location}")


def test_secret_and_context_markers():
    assert ev("${secret.pg}") == SecretRef("pg")
    assert ev("${secret.vm.public_key}") == SecretRef("vm", "public_key")
    assert ev("${azure.tenant_id}") == ContextRef("tenant_id")
    with pytest.raises(ExprError, match="azure.region is unknown"):
        ev("${azure.region}")


def test_guid_is_a_stable_uuid5_that_depends_on_every_argument():
    a = call_function("guid", ["scope", "principal", "role"])
    assert a == call_function("guid", ["scope", "principal", "role"])
    assert a != call_function("guid", ["scope", "principal", "other"])
    assert uuid.UUID(a).version == 5


def test_functions_with_unknown_arguments_are_deferred_then_finished():
    call = ev("${guid(ref.kv.id, 'reader')}")
    assert isinstance(call, Call) and list(iter_markers(call)) == [Ref("kv")]
    kv_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
    assert finish(call, lambda m: kv_id) == call_function("guid", [kv_id, "reader"])
    partly = finish(Template(("a-", Ref("x"), Ref("y"))), lambda m: "X" if m == Ref("x") else m)
    assert partly == Template(("a-", "X", Ref("y")))


@pytest.mark.parametrize(("args", "want"), [
    (["10.0.0.0/16", 8, 2], "10.0.2.0/24"),
    (["10.0.0.0/16", 4, 15], "10.0.240.0/20"),
    (["10.10.0.0/16", 0, 0], "10.10.0.0/16"),
    (["fd00::/48", 16, 1], "fd00:0:0:1::/64"),
])
def test_cidrsubnet(args, want):
    assert call_function("cidrsubnet", args) == want


@pytest.mark.parametrize(("args", "phrase"), [
    (["10.0.0.0/30", 8, 0], "no room"),
    (["10.0.0.0/16", 2, 4], "does not fit"),
    (["10.0.0.1/16", 8, 0], "host bits"),
])
def test_cidrsubnet_refuses_impossible_ranges(args, phrase):
    with pytest.raises(FunctionError, match=phrase):
        call_function("cidrsubnet", args)


def test_join_lower_and_role():
    assert ev("${join(',', var.nets)}") == "10.0.0.0/16"
    assert ev("${join('-', ['a', var.n, true])}") == "a-3-true"
    role = ev("${role('acrpull')}")
    assert finish(role, lambda m: "sub1") == \
        f"/subscriptions/sub1/providers/Microsoft.Authorization/roleDefinitions/{ROLES['AcrPull']}"


@pytest.mark.parametrize(("text", "phrase"), [
    ("${nope(1)}", "unknown function 'nope'"),
    ("${lower()}", "lower() takes 1 argument, got 0"),
    ("${guid()}", "guid() takes at least 1 argument"),
    ("${join(',', var.n)}", "join() needs a list"),
    ("${role('Chief Wizard')}", "unknown built-in role"),
    ("${foo.bar}", "unknown name 'foo'"),
    ("${var.n", "unclosed"),
    ("${}", "empty expression"),
    ("${var.n var.n}", "unexpected 'var'"),
    ("${var.tags}-x", "cannot put a map inside a string"),
])
def test_expression_errors_are_one_line(text, phrase):
    with pytest.raises(ExprError) as info:
        ev(text)
    assert phrase in info.value.message and "\n" not in info.value.message
