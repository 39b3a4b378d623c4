"""Categories: a two-level tree (categories and their subcategories) that admins create."""

from __future__ import annotations

from lms import keys
from lms.entities import Category
from lms.errors import BusinessRuleError, ConflictError, NotFoundError, ValidationError
from lms.expressions import item_absent
from lms.table import Item, Table, decode_cursor, deserialize, encode_cursor, serialize


def category_item(category: Category) -> Item:
    return {**keys.category(category.category_id).as_item(), **category.attributes()}


def list_categories(table: Table) -> list[Category]:
    items = table.query_all(partition=(keys.PK, keys.CATALOG), sort_prefix=(keys.SK, keys.CATEGORY_PREFIX))
    return sorted((Category.from_item(i) for i in items), key=lambda c: c.name.lower())


def category_tree(categories: list[Category]) -> list[tuple[Category, list[Category]]]:
    """Top-level categories, each with its subcategories, both sorted by name."""
    children: dict[str, list[Category]] = {}
    for category in categories:
        if category.parent_category_id:
            children.setdefault(category.parent_category_id, []).append(category)
    return [(c, children.get(c.category_id, [])) for c in categories if not c.parent_category_id]


def category_tree_page(
    table: Table, *, limit: int, cursor: str | None
) -> tuple[list[tuple[Category, list[Category]]], str | None]:
    """A page of the tree, by top-level category name. Categories are few (admins create them), so the
    page is cut from the whole tree read in one Query; the cursor names the last category given."""
    start = decode_cursor(cursor)
    after = deserialize(start).get("afterCategory") if start else None
    if start and not isinstance(after, str):
        raise ValidationError("The cursor does not belong to this list.")
    tree = category_tree(list_categories(table))
    ids = [parent.category_id for parent, _ in tree]
    if after is not None and after not in ids:
        raise ValidationError("The cursor does not belong to this list (or its category was removed).")
    first = ids.index(after) + 1 if after is not None else 0
    page = tree[first : first + limit]
    more = first + limit < len(tree)
    return page, encode_cursor(serialize({"afterCategory": page[-1][0].category_id})) if more else None


def get_category(table: Table, category_id: str) -> Category:
    item = table.get(keys.category(category_id))
    if item is None:
        raise NotFoundError(f"No category with id {category_id}.")
    return Category.from_item(item)


def create_category(table: Table, *, name: str, description: str, parent_category_id: str | None) -> Category:
    existing = list_categories(table)
    if parent_category_id:
        parent = next((c for c in existing if c.category_id == parent_category_id), None)
        if parent is None:
            raise NotFoundError(f"No parent category with id {parent_category_id}.")
        if parent.parent_category_id:
            raise BusinessRuleError("Subcategories cannot have subcategories of their own.")
    siblings = (c for c in existing if c.parent_category_id == parent_category_id)
    if any(c.name.strip().lower() == name.strip().lower() for c in siblings):
        raise ConflictError(f"A category named {name!r} already exists here.")
    category = Category(name=name.strip(), description=description, parent_category_id=parent_category_id)
    table.put(category_item(category), when=item_absent(), otherwise=ConflictError("The category exists."))
    return category
