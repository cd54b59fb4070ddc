"""Synthetic unified social credit codes: the organisation code (GB 11714, with its check
character) is a bijection of the enterprise's index under the seed's key, so codes never repeat
within a seed and need no draws or retries; the 18th character is the code's own check
(``taxonomy.credit_code``). Codes issued since the 2015 reform start with "MA"."""

from service.taxonomy.credit_code import with_check_character

MAX_ENTERPRISES = 10**8  # the organisation-code space of one seed (8 digits)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_check_character(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _feistel(x: int, half: int, key: int) -> int:
    """A bijection of [0, half²): a 4-round Feistel network with modular addition."""
    left, right = divmod(x, half)
    for r in range(4):
        h = ((right + key + r * 0x9E3779B9) * 0x85EBCA6B) & 0xFFFFFFFF
        h ^= h >> 13
        left, right = right, (left + h) % half
    return left * half + right


def organisation_code(index: int, key: int, new_style: bool) -> str:
    """The 9-character organisation code of enterprise ``index``: a bijection of the index, so
    codes never repeat within a seed. Codes issued since the 2015 reform start with "MA"."""
    if not 0 <= index < MAX_ENTERPRISES:
        raise ValueError(f"index {index} outside the organisation-code space")
    if new_style:
        n = _feistel(index, 31**3, key)
        chars = []
        for _ in range(6):
            n, digit = divmod(n, 31)
            chars.append(USCC_ALPHABET[digit])
        body = "MA" + "".join(reversed(chars))
    else:
        body = f"{_feistel(index, 10**4, key):08d}"
    return body + org_check_character(body)


def credit_code(area_code: str, org_code: str) -> str:
    return with_check_character("91" + area_code + org_code)
