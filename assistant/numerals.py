"""Chinese numerals (一 … 九十九) to int and back; pure functions."""

from __future__ import annotations

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "零一二三四五六七八九"


def cn_to_int(s: str) -> int | None:
    """``"十二"`` → 12, ``"二十"`` → 20, ``"三"`` → 3; ``None`` when ``s`` is not a numeral below 1000."""
    if not s:
        return None
    if s.isdigit():
        return int(s)
    total, current = 0, 0
    for ch in s:
        if ch in _DIGITS:
            current = current * 10 + _DIGITS[ch] if current and ch in "〇零○" else _DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def int_to_cn(n: int) -> str:
    """12 → ``"十二"``; for labels such as ``（十二）``."""
    if n < 0 or n >= 1000:
        raise ValueError(n)
    if n < 10:
        return _CN[n]
    if n < 20:
        return "十" + (_CN[n - 10] if n > 10 else "")
    if n < 100:
        tens, ones = divmod(n, 10)
        return _CN[tens] + "十" + (_CN[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return _CN[hundreds] + "百"
    return _CN[hundreds] + "百" + ("零" if rest < 10 else "") + (int_to_cn(rest) if rest >= 20 or rest < 10 else "一" + int_to_cn(rest))
