"""Groups of VMs."""

from __future__ import annotations

from apiflask import APIBlueprint

from loadzone.core.storage import transaction
from loadzone.inventory import catalog
from loadzone.serialize import group_dict
from loadzone.web.api import actor, now
from loadzone.web.api.schemas import Empty, GroupIn, GroupOut, GroupPatch

bp = APIBlueprint("groups", __name__, url_prefix="/api/groups", tag="Groups")


@bp.get("")
@bp.output(GroupOut(many=True))
def list_groups():
    """Every group with its VM ids."""
    actor()
    return catalog.list_groups()


@bp.post("")
@bp.input(GroupIn, arg_name="body")
@bp.output(GroupOut, status_code=201)
def create_group(body):
    """Create a group, optionally moving VMs into it."""
    with transaction():
        group = catalog.create_group(actor(), now(), body["name"], body.get("vm_ids"))
        data = group_dict(group)
    return data, 201


# No max= on the id converter: Werkzeug would answer 405 instead of 404 for PATCH and DELETE
# of an id beyond it. catalog.get_group reports every out-of-range id as not found.
@bp.get("/<int:group_id>")
@bp.output(GroupOut)
def get_group(group_id: int):
    """One group."""
    actor()
    return group_dict(catalog.get_group(group_id))


@bp.patch("/<int:group_id>")
@bp.input(GroupPatch, arg_name="body")
@bp.output(GroupOut)
def edit_group(group_id: int, body):
    """Rename a group, set exactly which VMs it holds, or its longest booking (`max_hours`)."""
    with transaction():
        limits = {"max_hours": body["max_hours"]} if "max_hours" in body else {}
        group = catalog.edit_group(
            actor(), group_id, body.get("name"), body.get("vm_ids"), **limits
        )
        data = group_dict(group)
    return data


@bp.delete("/<int:group_id>")
@bp.output(Empty)
def delete_group(group_id: int):
    """Delete a group; its VMs become ungrouped."""
    with transaction():
        catalog.delete_group(actor(), group_id)
    return {}
