"""Names in pinyin: the search keys of member files and the sort key of name lists, so that
Chinese names are listed as people expect (曹, 陈, 李 …) rather than by code point."""

from pypinyin import Style, lazy_pinyin


def pinyin_of(name: str) -> tuple[str, str]:
    """Full pinyin and initials: 张三 → ("zhangsan", "zs")."""
    return "".join(lazy_pinyin(name)).lower(), "".join(
        lazy_pinyin(name, style=Style.FIRST_LETTER)
    ).lower()
