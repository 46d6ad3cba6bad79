"""``is_thanks``: the post thanks *us*.

The caller guarantees the post mentions us or replies to one of our posts.
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass

from rapport.domain.detectors.text import (
    LEADING_MENTIONS_RE,
    MENTION_RE,
    RT_PREFIX_RE,
    SPACES_RE,
    URL_RE,
    wordset,
)

__all__ = ["is_thanks"]

# Gratitude expressions. Each match is then checked for negation, addressee and "in advance".
_GRATITUDE_PATTERNS = [
    # No repetition over alternatives here: "(?:you|yo|u)+" backtracks exponentially on "youyou...x".
    r"\bthank\s*(?:you+|u+|ya+|yu|yew|yo|ye|y'all|yall|q)\b",
    r"\bthank(?:you|yu|u|uu+|x)\b|\bthanking you\b",
    r"\b(?:many|big|huge|much|massive|special|all the|a thousand|a million)\s+thanks\b",
    r"\bthanks\b",
    r"\b(?:thanx+|thankz+|thnx+|thnks|thx+|tnx|thks|tq|ty|tysm|tyvm|tyty|tyy+)\b",
    # "I just wanted to thank @bob", "we thank you", "I can't thank you enough" (not "we should thank").
    r"\b(?:i|we)(?:'d|'ll)?\s+(?:(?:just|really|also|truly|sincerely|again|wanted|want|wanna|would like|like|"
    r"love|would love|must|have to|got to|gotta|can'?t|cannot)\s+)*(?:to\s+)?thank\b",
    r"\b(?:(?:much|really|greatly|truly|so|always|deeply|hugely|very)\s+)?appreciated\b",
    r"\b(?:i|we|really|truly|so|much|greatly|deeply|do)\s+appreciate\b|^appreciate\b",
    r"\bgrateful\b|\bthankful\b",
    r"\bcheers\b",
    r"\b(?:much\s+)?obliged\b",
    r"\b(?:i|we)\s+owe\s+(?:you|u|ya)\s+one\b",
    r"(?<!\w)(?:h/t|hat tip|ht)\b",
    r"\b(?:gracias|merci|danke|dank je|dankjewel|bedankt|obrigad[oa]|grazie|arigato|arigatou|mahalo|"
    r"asante|shukran|shukriya|dhanyavaad|dhanyawad|dziekuje|dzieki|tusen takk|terima kasih|salamat|"
    r"kiitos|efharisto|xie xie|spasibo|ta muchly|ta very much)\b",
    "\u0441\u043f\u0430\u0441\u0438\u0431\u043e|\u8c22\u8c22|\u3042\u308a\u304c\u3068\u3046|\u0634\u0643\u0631\u0627"
    "|\u0927\u0928\u094d\u092f\u0935\u093e\u0926|\uac10\uc0ac\ud569\ub2c8\ub2e4|\u0434\u044f\u043a\u0443\u044e"
    "|dzi\u0119kuj\u0119|gr\u00e2ce",
    # British "ta" only when it opens the message ("ta!", "ta @x"): elsewhere it is too ambiguous.
    r"^ta\b(?=\s*(?:[!.,]|$|@|very|so|mate|x\b|for\b))",
]
_GRATITUDE_RE = re.compile("|".join(f"(?:{p})" for p in _GRATITUDE_PATTERNS))
_PRAYER_RE = re.compile("\U0001f64f")
# 🙏 also means "please" or prayers: only count it when the post is not asking or praying.
_PRAYER_CONTEXT_RE = re.compile(r"\b(?:pray|prayers|praying|please|pls|plz|rip|hope|god|bless|lord|amen)\b")

# Forms that contain a gratitude word but express no gratitude to anyone.
_NOT_GRATITUDE_RE = re.compile(
    r"\b(?:no,?\s+thanks?(?:\s+you)?|no,?\s+thank\s*(?:you|u)|thanks?,?\s+but\s+no(?:,?\s+thanks?)?|"
    # A polite refusal: "thanks but I'll pass", "thanks, but we're good".
    r"(?:thanks|thank you|thx),?\s+but\s+(?:i'?ll pass|i'?m (?:good|going to pass|gonna pass|ok|okay)|"
    r"we'?re (?:good|ok|okay)|not (?:for|right) now|(?:i|we) (?:will|'ll) pass|pass)|"
    # Sarcasm: "thanks for nothing", "thanks a lot for breaking my build".
    r"thanks (?:a lot |a bunch |so much |very much )?for (?:nothing|ruining|breaking|wasting|spamming|"
    r"ignoring|blocking|spoiling|the spam|the headache|making (?:it|things|everything) worse|the unfollow|"
    r"unfollowing)|thanks,? obama|thanksgiving|thankless|thanks\s*giving|"
    r"thank (?:god|goodness|heavens|heaven|fuck|christ|lord|the lord|the gods|jesus|science)|"
    # "Thanks in advance" closes a request: it thanks nobody for anything done yet.
    r"(?:thanks|thank you|thank u|thx|ty|thanx|thnx|appreciate it|cheers)\s+(?:so much\s+|very much\s+)?"
    r"(?:in advance|ahead of time|ahead|beforehand)|tia|would appreciate|'d appreciate|"
    r"(?:would|'d) be (?:very |so |really |most )?grateful|appreciate any|grateful for any|"
    r"appreciate (?:some|your|a little|a bit of) (?:help|input|advice|thoughts|feedback)|"
    r"no (?:need to )?thanks? (?:needed|necessary|required)|no need to thank|don'?t (?:need to )?thank me|"
    r"you'?re welcome|(?:a|my|the|your|his|her|their|our)\s+thank[- ]you\s+(?:note|card|letter|email|gift)|"
    r"(?:not|never|isn'?t|wasn'?t|hardly|un)\s*(?:very\s+|so\s+|that\s+)?(?:grateful|thankful|appreciated)|"
    r"(?:don'?t|do not|didn'?t|did not|doesn'?t|never|won'?t|can'?t)\s+(?:really\s+)?appreciate|"
    r"obliged to|felt obliged|feel obliged)\b"
)
_SARCASM_RE = re.compile("\U0001f644|\U0001f612|\U0001f611|/s\\b|\\byeah,? right\\b|\\bsure,? jan\\b")
# Intensifiers and fillers between the gratitude word and its addressee or object.
_FILLER_RE = re.compile(
    r"^[\s,:;!.\-]*(?:(?:so|very|soo+|sooo+) much|a (?:lot|ton|bunch|million|mil)|again|heaps|loads|lots|"
    r"muchly|tons|as always|once again|all|both|kindly|guys|y'all|yall|folks)?[\s,:;!.\-]*"
)
_HANDLES_AFTER_RE = re.compile(r"^(?:@(\w{1,30})[\s,]*(?:(?:and|&)\s+)?)+")
_TO_TARGET_RE = re.compile(r"^to\s+(\S+)")
_YOU_RE = re.compile(r"^(?:you|u|ya|y'all|yall|ye|yourself)\b")
_FOR_RE = re.compile(r"^(?:for|4)\b")
_NAME_RE = re.compile(r"^([a-z][a-z'-]{2,})\b")
# Words after "thanks" that are not a person's name.
_NOT_NAMES = wordset(
    "for you your mate man dude buddy pal friend friends everyone everybody all guys folks both team love "
    "again heaps lots loads tons the this that and but though tho anyway anyways bro sis fam hun babe "
    "sir madam ma'am boss chief champ legend very so much indeed though dear my our"
)
_CHEERS_OK_RE = re.compile(
    r"^\s*(?:[!.)]|$|for\b|4\b|mate|m8|buddy|pal|man|dude|love|hun|x+\b|@|you\b|ya\b|u\b|again|"
    r"\U0001f64f|\U0001f37b|\U0001f642|\U0001f60a)"
)
# "I appreciate it / you / the RT" thanks; "I appreciate the irony" does not.
_APPRECIATE_OK_RE = re.compile(
    r"^\s*(?:[!.)]|$|it\b|this\b|that\b|you|ya\b|u\b|y'?all|your|ur\b|all\b|everything|"
    r"the (?:share|rt|retweet|shout|boost|mention|support|help|love|kind|feedback|signal|repost|link|tip|"
    r"follow|intro|time|thought|note|heads)|@)"
)
_WINDOW = 120  # characters examined around a gratitude word
_MAX_GRATITUDE_MATCHES = 12
_INDIRECT_OK_RE = re.compile(
    r"@\w|\b(?:you|u|ya|your|y'all)\b|\b(?:retweet|rt|share|repost|shout ?out|mention|boost|follow|intro|"
    r"introduction|support|kind words|help|feedback|link|signal boost)\b"
)
# Gratitude to a crowd: "thanks everyone", "thank you for all the feedback, everyone!".
_GROUP_RE = re.compile(
    r"^[^.!?]*?\b(?:everyone|everybody|all of you|y'all|yall|folks|friends|guys|all)\s*(?:[!.,]|$|who|for\b)"
)
_LEAD_VERB_RE = re.compile(
    r"\b(?:should|shall|do|did|does|can|could|must|will|would|to)\s+(?:i|we)\s+(?:\w+\s+){0,3}thank\b"
)


def _norm_handle(name: str | None) -> str | None:
    if not name:
        return None
    return name.strip().lstrip("@").lower() or None


def _handles(after: str) -> list[str]:
    m = _HANDLES_AFTER_RE.match(after)
    return [h.lower() for h in MENTION_RE.findall(m.group(0))] if m else []


@dataclass(frozen=True, slots=True)
class _Post:
    """What ``is_thanks`` computes once per post (keeps the per-match checks cheap)."""

    body: str  # lowercased text without links, RT prefix and leading mentions
    me: str | None
    leading: frozenset[str]  # handles the post replies to (its leading mentions)
    others: frozenset[str]  # every handle mentioned, except ours
    first_question: int  # index of the first "?" in body, -1 when none
    indirect_ok: bool


def _thanks_us(post: _Post, match: re.Match[str]) -> bool:
    """Whether one gratitude expression is gratitude addressed to us."""
    body, me, leading = post.body, post.me, post.leading
    phrase = match.group(0).strip()
    # A bounded window: what the gratitude is for or to whom is said right after it.
    after_raw = body[match.end() : match.end() + _WINDOW]
    if phrase in ("grateful", "thankful") and not (leading or post.indirect_ok):
        # "Grateful for a quiet week" states a feeling; it thanks us only when it speaks to someone
        # (a reply, "you", a mention) or names something we did ("grateful for the retweet").
        return False
    if _GROUP_RE.match(after_raw) and me is not None and me not in leading:
        # "Thank you for all the feedback, everyone!" thanks a crowd, not us in particular.
        return False
    if phrase == "cheers" and not _CHEERS_OK_RE.match(after_raw) and not re.match(r"^\s*to\b", after_raw):
        return False  # "cheers" as a greeting or toast ("cheers all round", "cheers, see you")
    if phrase.endswith("appreciate") and not _APPRECIATE_OK_RE.match(after_raw):
        return False
    if phrase == "ht" and not after_raw.lstrip(" :").startswith("@"):
        return False  # "ht" alone is too ambiguous; "ht @ana" is a hat tip
    if phrase.endswith(" thank") and _LEAD_VERB_RE.search(
        body[max(0, match.start() - _WINDOW) : match.end()]
    ):
        return False  # "should I thank them?" asks about thanking
    filler = _FILLER_RE.match(after_raw)
    after = after_raw[filler.end() :] if filler else after_raw
    to = _TO_TARGET_RE.match(after)
    if to:
        # "thanks to you" thanks us; "thanks to @bob" thanks bob; "thanks to the rain" is causal and
        # "thanks to everyone who came" is not addressed to us in particular.
        if _YOU_RE.match(to.group(1)):
            return True
        if to.group(1).startswith("@"):
            return me is None or me in _handles(after[len("to") :].lstrip())
        return False
    handles = _handles(after)
    if handles:
        return me is None or me in handles  # "thanks @bob!" thanks bob; "thanks @bob and @ana" us too
    name = _NAME_RE.match(after)
    if name and name.group(1) not in _NOT_NAMES and me is not None:
        # "@ana @sam_infra thanks Sam": the name picks one of the people mentioned.
        word = name.group(1)
        if word not in me and any(word in h for h in post.others):
            return False
    if leading and me is not None and me not in leading and not _YOU_RE.match(after):
        # "@bob thanks! cc @ana": the reply thanks the people it answers, and that is not us.
        return False
    # A bare "thanks!" closing a question is a sign-off (thanks in advance), not gratitude.
    after_question = 0 <= post.first_question < match.start()
    return not after_question or bool(_FOR_RE.match(after) or _YOU_RE.match(after))


def is_thanks(text: str, me_username: str | None = None) -> bool:
    """True when the post expresses gratitude to us (``me_username``, without @).

    The caller guarantees the post mentions us or replies to one of our posts, so an unaddressed
    "thanks for sharing!" is taken as addressed to us, while "thanks @bob" (and us not thanked) is not.
    """
    me = _norm_handle(me_username)
    raw = html.unescape(text).replace("\u2019", "'").replace("\u2018", "'")
    raw = RT_PREFIX_RE.sub("", URL_RE.sub(" ", raw))
    lower = SPACES_RE.sub(" ", raw.lower()).strip()
    if not lower or _SARCASM_RE.search(lower):
        return False
    lead = LEADING_MENTIONS_RE.match(lower)
    leading = {h.lower() for h in MENTION_RE.findall(lead.group(0))} if lead else set()
    body = lower[lead.end() :] if lead else lower
    matches = list(itertools.islice(_GRATITUDE_RE.finditer(body), _MAX_GRATITUDE_MATCHES))
    if matches:
        negated = [(m.start(), m.end()) for m in _NOT_GRATITUDE_RE.finditer(body)]
        post = _Post(
            body=body,
            me=me,
            leading=frozenset(leading),
            others=frozenset(h.lower() for h in MENTION_RE.findall(lower) if h.lower() != me),
            first_question=body.find("?"),
            indirect_ok=_INDIRECT_OK_RE.search(body) is not None,
        )
        # Bounded work per post (_MAX_GRATITUDE_MATCHES): a real thanks shows up in its first few
        # gratitude words, and a crafted post repeating "thanks" must not cost quadratic time.
        for m in matches:
            if not any(start <= m.start() < end for start, end in negated) and _thanks_us(post, m):
                return True
    if _PRAYER_RE.search(body) and not _PRAYER_CONTEXT_RE.search(body):
        return "?" not in body
    return False
