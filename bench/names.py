"""Deterministic Chinese names for bench people: the same number always gives the same name,
without a random generator per row."""

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红梅海燕鹏飞宇浩然子涵欣怡"


def person_name(n: int) -> str:
    """A surname and one or two given characters, spread over the tables by a multiplicative
    hash of n (so neighbouring numbers get unrelated names and pinyin initials)."""
    h = (n * 2654435761) % 2**32
    surname = SURNAMES[h % len(SURNAMES)]
    first = GIVEN[(h >> 8) % len(GIVEN)]
    if h >> 20 & 1:
        return surname + first
    second = GIVEN[(h >> 12) % len(GIVEN)]
    return surname + first + (second if second != first else GIVEN[(h >> 16) % len(GIVEN)])
