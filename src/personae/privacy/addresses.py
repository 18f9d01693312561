"""Street-address patterns: US (USPS suffixes, units, military and PO boxes), European street
words, Korean road-name and lot-number addresses, and addresses right after a cue ("my address
is", "lives at", "ZIP").

Addresses have no checksum, so these favour precision: a US street needs a house number, one to
four capitalised words and a USPS suffix; lowercase text counts only with a common suffix (road,
street …); a Korean address needs a 시/군/구 (or a 시·도) before the road or 동 and a number after.
"""

from __future__ import annotations

import re

_CAP = r"[A-ZÀ-ÖØ-Þ]"

# USPS street suffixes (full and common abbreviated forms).
_SUFFIXES = (
    "Alley|Aly|Annex|Arcade|Avenue|Ave|Av|Bayou|Beach|Bend|Bluffs?|Bottom|Boulevard|Blvd|"
    "Branch|Bridge|Brooks?|Burgs?|Bypass|Byp|Camp|Canyon|Cape|Causeway|Cswy|Centers?|Ctr|"
    "Circles?|Cir|Cliffs?|Club|Commons?|Corners?|Course|Courts?|Ct|Coves?|Creek|Crescent|"
    "Cres|Crest|Crossing|Xing|Crossroads?|Curve|Dale|Dam|Divide|Drives?|Dr|Estates?|"
    "Expressway|Expy|Extensions?|Ext|Falls?|Ferry|Fields?|Flats?|Fords?|Forest|Forges?|"
    "Forks?|Fort|Freeway|Fwy|Gardens?|Gdns|Gateway|Glens?|Greens?|Groves?|Harbors?|Haven|"
    "Heights|Hts|Highway|Hwy|Hills?|Hollow|Inlet|Islands?|Isle|Junctions?|Jct|Keys?|Knolls?|"
    "Lakes?|Land|Landing|Lane|Ln|Lights?|Loaf|Locks?|Lodge|Loop|Mall|Manors?|Meadows?|Mews|"
    "Mills?|Mission|Motorway|Mount|Mountains?|Mtn|Neck|Orchard|Oval|Overpass|Parks?|"
    "Parkways?|Pkwy|Pass|Passage|Path|Pike|Pines?|Place|Pl|Plains?|Plaza|Plz|Points?|Ports?|"
    "Prairie|Radial|Ramp|Ranch|Rapids?|Rest|Ridges?|River|Roads?|Rd|Route|Rte|Row|Rue|Run|"
    "Shoals?|Shores?|Skyway|Springs?|Spurs?|Squares?|Sq|Station|Sta|Stravenue|Stream|"
    "Streets?|St|Summit|Terrace|Ter|Throughway|Trace|Track|Trafficway|Trail|Trl|Trailer|"
    "Tunnel|Turnpike|Tpke|Underpass|Unions?|Valleys?|Via|Viaduct|Views?|Villages?|Ville|"
    "Vista|Walks?|Wall|Ways?|Wells?"
)
_UNIT = (
    r"(?:,?[ ](?:Apt|Apartment|Suite|Ste|Unit|Bldg|Building|Fl|Floor|Rm|Room|Dept|No)\.?"
    r"[ ]?#?[A-Za-z0-9-]{1,6}|,?[ ]#[ ]?[A-Za-z0-9-]{1,6})"
)
_CITY_STATE_ZIP = r"(?:,?\s[A-Z][a-z]+(?:[ ][A-Z][a-z]+){0,2},?[ ][A-Z]{2}[ ]\d{5}(?:-\d{4})?)"
_US_ADDRESS = (
    r"(?<![0-9A-Za-z_])\d{1,6}[A-Za-z]?(?:-\d{1,4})?[ ]"
    r"(?:(?:[NSEW]|North|South|East|West|NE|NW|SE|SW)\.?[ ])?"
    r"(?:(?:" + _CAP + r"[a-zß-ÿ]+(?:['’-][A-Za-z]?[a-z]+)?|\d{1,3}(?:st|nd|rd|th))[ ]){1,4}"
    r"(?:" + _SUFFIXES + r")\b\.?"
    r"(?:[ ](?:N|S|E|W|NE|NW|SE|SW)\b\.?)?" + _UNIT + r"?" + _CITY_STATE_ZIP + r"?"
)
_US_MILITARY = (
    r"\b(?:(?:PSC|CMR|Unit)[ ]\d{3,5},?[ ]Box[ ]\d{3,5},?\s(?:APO|FPO|DPO)[ ](?:AA|AE|AP)"
    r"[ ]\d{5}|(?:APO|FPO|DPO)[ ](?:AA|AE|AP)[ ]\d{5})\b"
)
_PO_BOX = r"\b(?i:P\.?[ ]?O\.?[ ]?Box)[ ]\d{1,6}\b"

_SIDO = (
    r"(?:서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충청북|충청남|전라북|전라남|경상북"
    r"|경상남|충북|충남|전북|전남|경북|경남|제주)(?:특별자치시|특별자치도|특별시|광역시|도|시)?"
)
# A one-syllable name before 시/군/구 is almost always an ordinary word (친구, 출구, 도시, 장군);
# the real one-syllable districts are 중구, 동구, 서구, 남구 and 북구.
_SIGUNGU = r"(?:[가-힣]{2,6}(?:시|군|구)|[중동서남북]구)"
_KR_ADDRESS = (
    r"(?<![0-9A-Za-z가-힣])(?:"
    + _SIDO
    + r"[ ]?(?:"
    + _SIGUNGU
    + r"[ ]?){0,3}|(?:"
    + _SIGUNGU
    + r"[ ]?){1,3})"
    r"(?:[가-힣0-9]{1,8}(?:동|읍|면|리|가)[ ])?"
    r"(?:[가-힣0-9]{1,12}(?:로|길)(?:[ ]?\d{1,4}번?길)?|[가-힣0-9]{1,8}(?:동|읍|면|리|가))"
    r"[ ]?(?:산[ ]?)?\d{1,5}(?:-\d{1,5})?(?:번지)?(?![0-9])(?!-[0-9])"
    r"(?:,?[ ]?\d{1,4}동)?(?:[ ]?\d{1,5}호)?(?:[ ]?\([가-힣0-9, ]{1,20}\))?"
)

_US_LOWER = (
    r"(?<![0-9A-Za-z_])\d{1,6}[a-z]?[ ](?:[a-zß-ÿ]+[ ]){1,2}"
    r"(?:street|road|avenue|lane|drive|boulevard)(?![A-Za-z])"
)
# A house number after a street word: Dutch/German/Nordic/Central-European suffixes …
_EU_SUFFIXES = (
    "straat", "strasse", "straße", "gasse", "laan", "plein", "platz", "allee", "vej", "gade",
    "gatan", "vägen", "katu", "utca", "ulica", "gracht", "steeg", "weg",
)  # fmt: skip
_EU_SUFFIX = (
    r"(?<![^\W\d_])[^\W\d_]{2,}(?i:" + "|".join(_EU_SUFFIXES) + r")[ ]\d{1,5}[a-zA-Z]?(?![0-9])"
)
# … or Romance/Greek street words in front of the name, with the number before or after.
_EU_WORDS = (
    "rue", "rua", "calle", "carrer", "via", "viale", "corso", "avenida", "avda.", "plaza",
    "praça", "piazza", "largo", "travessa", "camino", "chemin", "ulica", "πλατεία", "οδός",
    "λεωφόρος",
)  # fmt: skip
_EU_WORD = r"(?i:" + "|".join(re.escape(w) for w in _EU_WORDS) + r")"
# In front of the name the street word must be capitalised ("Via Roma 12", not "via email 3").
_EU_WORD_CAP = r"(?:" + "|".join(re.escape(w.capitalize()) for w in _EU_WORDS) + r")"
_NAME = r"(?:[A-ZÀ-ÖØ-ÞĀ-ſΑ-ΩΆ-Ώ][^\W\d_]*\.?|de|del|della|di|da|do|dos|das|du|des|la|le|los|las)"
_EU_PREFIX = (
    r"(?<![\w])(?:\d{1,5}[a-zA-Z]?,?[ ]" + _EU_WORD + r"(?:[ ]" + _NAME + r"){1,4}"
    r"|" + _EU_WORD_CAP + r"(?:[ ]" + _NAME + r"){1,4},?[ ]\d{1,5}[a-zA-Z]?(?![0-9]))"
)
_UNIT_ALONE = r"(?<![\w])(?i:apt\.?|apartment|suite|ste\.)[ ]?#?\d{1,5}[a-zA-Z]?(?![\w])"
_ZIP_CUE = (
    r"(?:(?i:\b(?:zip(?:[ ]?code)?|postal[ ]code|post[ ]?code)\b)|우편번호)[ ]?[:#]?[ ]?"
    r"(?P<pii>\d{5}(?:-\d{4})?)(?![0-9])"
)
_STOP = r"(?!(?i:and|but|or|so|if|then|please|thanks|call|email|phone)\b)"
_TOKEN = r"(?:" + _STOP + r"[^\W\d_][^\W\d_'’.-]*\.?|\d{1,5}[a-zA-Z]?)"
_ADDRESS_CUE = (
    r"(?i:\b(?:(?:my|his|her|their|our|your|home|mailing|billing|shipping|postal|new)[ ]address"
    r"(?:[ ]is)?|address[ ]?:|address[ ]is|lives?[ ](?:at|on)|living[ ]at|located[ ]at)\b)"
    r"[ ]?:?[ ]?(?P<pii>\d{1,5}[a-zA-Z]?,?(?:[ ]" + _TOKEN + r"){1,6}"
    r"(?:,[ ]?" + _STOP + r"[^\W\d_][^\W\d_'’-]*(?:[ ]" + _STOP + r"[^\W\d_][^\W\d_'’-]*){0,2})?)"
)

_US_SUFFIX_CUES = ("street", "road", "avenue", "lane", "drive", "boulevard")
_KR_CUES = ("로", "길", "동", "읍", "면", "리", "가")

# (pattern, group holding the address, digits the text needs, words one of which it needs)
ADDRESS_PATTERNS: tuple[tuple[str, str | int, int, tuple[str, ...]], ...] = (
    (_US_ADDRESS, 0, 1, ()),
    (_US_LOWER, 0, 1, _US_SUFFIX_CUES),
    (_US_MILITARY, 0, 5, ("apo", "fpo", "dpo")),
    (_PO_BOX, 0, 1, ("box",)),
    (_EU_SUFFIX, 0, 1, _EU_SUFFIXES),
    (_EU_PREFIX, 0, 1, _EU_WORDS),
    (_UNIT_ALONE, 0, 1, ("apt", "apartment", "suite", "ste.")),
    (_ZIP_CUE, "pii", 5, ("zip", "post", "우편번호")),
    (_ADDRESS_CUE, "pii", 1, ("address", "live", "living", "located")),
    (_KR_ADDRESS, 0, 1, _KR_CUES),
)
