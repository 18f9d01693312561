"""Word lists the English fact rules (:mod:`profile_rules_en`) check values against: words
that are not names, jobs, and the relatives and pets a fact may be about."""

from __future__ import annotations

from personae.memory.profile_rules_base import _set

_NOT_NAMES = _set(
    "sorry fine good great ok okay tired bored hungry thirsty sleepy here back home ready done "
    "busy sick ill happy sad angry upset lost new old free alone single married divorced engaged "
    "sure right wrong late early excited nervous scared afraid glad well better worse cold hot "
    "warm not just so very really also actually still always never only going coming leaving "
    "trying looking working living thinking feeling doing getting the a an and but or no yes "
    "yeah hi hello hey in on at from with to for of by your you his her their our me she he "
    "they it this that what who secret unknown private irrelevant important complicated funny "
    "boring english korean american british canadian australian irish scottish welsh french "
    "german spanish italian dutch swedish polish russian chinese japanese vietnamese thai "
    "filipino indian mexican brazilian african asian european latino hispanic jewish muslim "
    "christian catholic buddhist hindu atheist gay lesbian bi straight trans human ai bot robot "
    "god vegan vegetarian monday tuesday wednesday thursday friday saturday sunday january "
    "february march april may june july august september october november december today "
    "tomorrow yesterday tonight mom mum dad sir madam boss"
)
_JOBS = _set(
    "nurse doctor physician surgeon dentist pharmacist teacher professor lecturer tutor student "
    "engineer developer programmer designer architect lawyer attorney accountant banker chef cook "
    "baker barista waiter waitress bartender cashier clerk manager librarian scientist researcher "
    "journalist writer author editor artist painter musician photographer actor actress farmer "
    "firefighter officer electrician plumber carpenter mechanic pilot driver paramedic therapist "
    "psychologist veterinarian vet consultant analyst secretary receptionist cleaner soldier "
    "translator interpreter salesperson entrepreneur freelancer technician intern caregiver "
    "midwife hairdresser barber butcher tailor janitor postman courier coach athlete dancer "
    "singer streamer nanny housewife homemaker retiree pensioner undergraduate pupil tuner "
    "governess housekeeper gardener builder shopkeeper grocer locksmith jeweller jeweler "
    "optician fisherman sailor printer bookkeeper typist"
)
PET = (
    "dog|cat|puppy|kitten|hamster|rabbit|bunny|parrot|bird|budgie|goldfish|fish|turtle|tortoise|"
    "snake|lizard|gecko|horse|pony|ferret|guinea pig|hedgehog|rat|mouse"
)
FAMILY = (
    "mother|mom|mum|father|dad|sister|brother|sibling|son|daughter|kid|child|baby|grandmother|"
    "grandma|granny|grandfather|grandpa|aunt|auntie|uncle|cousin|niece|nephew|twin|stepmother|"
    "stepfather|stepsister|stepbrother"
)
PARTNER = "wife|husband|girlfriend|boyfriend|partner|fianc[eé]e?|spouse"
KIN = (
    r"(?:(?:little|younger|older|big|baby|twin|elder|eldest|youngest|oldest|half)\s+)?"
    rf"(?:{PET}|{FAMILY}|{PARTNER})"
)
