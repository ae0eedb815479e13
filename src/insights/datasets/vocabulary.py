"""Words of the demo world: a fictional SaaS brand, its campaigns, post texts, chat messages and fake people.

Contact details are fake but realistic: emails on the reserved example.com/.net/.org domains,
phone numbers in the fictional 555-01xx range, card numbers that are public test numbers.
"""

from __future__ import annotations

import numpy as np

BRAND = "Brightloop"
CAMPAIGNS = ("always-on", "spring-launch", "webinar-series", "customer-stories", "pricing-promo")
CAMPAIGN_PROBS = (0.40, 0.20, 0.15, 0.15, 0.10)
PLATFORM_PREFIX = {"facebook": "fb", "instagram": "ig", "linkedin": "li", "x": "x"}

FIRST_NAMES = (
    "anna", "ben", "carla", "david", "elena", "farid", "grace", "hugo", "ines", "jonas", "kira", "liam",
    "maya", "noah", "olivia", "pablo", "quinn", "rosa", "samir", "tara", "umar", "vera", "wen", "yusuf",
    "zoe", "amir", "bianca", "chen", "dina", "emil", "fatima", "george", "hana", "ivan", "julia", "kofi",
)  # fmt: skip
LAST_NAMES = (
    "smith", "garcia", "mueller", "rossi", "kowalski", "nguyen", "okafor", "silva", "tanaka", "dubois",
    "jensen", "novak", "haddad", "kim", "oconnor", "petrov", "santos", "weber", "lindqvist", "moreau",
    "patel", "cohen", "ferrari", "ibrahim", "larsen", "mendes", "fischer", "yamamoto", "brown", "costa",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
AREA_CODES = ("415", "212", "312", "646", "206", "617", "303", "512", "702", "305")
#: Public test card numbers (they pass the Luhn check), in the spacings people type.
CARDS = (
    "4111 1111 1111 1111",
    "5555 5555 5555 4444",
    "4242 4242 4242 4242",
    "4000-0566-5566-5556",
    "6011111111111117",
    "3782 822463 10005",
)

PRODUCT_TASKS = (
    "weekly reporting",
    "lead routing",
    "invoice chasing",
    "onboarding emails",
    "pipeline reviews",
)
AUDIENCES = ("sales teams", "small agencies", "founders", "marketing teams", "customer success leads")
BENEFITS = (
    "close deals faster",
    "stop losing leads in spreadsheets",
    "answer every inquiry within a minute",
    "see which campaigns really bring revenue",
    "hand over warm leads to sales automatically",
)
CTAS = (
    "Try it free for 14 days.",
    "Book a demo today.",
    "Link in bio.",
    "Read the story.",
    "Join the webinar.",
)
HUMAN_POSTS = (
    "Big week for the team: {brand} now connects to your calendar. {cta}",
    "We asked 200 {audience} what slows them down. The answer surprised us.",
    "Meet Dana, who runs customer success here. Her tip: reply before lunch, every time.",
    'Our CEO calls it "the Monday fix": ten minutes to plan the whole week. {cta}',
    "Behind the scenes at our {month} offsite. Thanks to everyone who made it happen!",
    "{brand} is hiring! Come build tools that help {audience} {benefit}.",
    "Quick poll: how do you handle {task} today? Comments open.",
    "New case study: how a 12-person agency doubled its demo bookings. {cta}",
)
AI_POSTS = {
    "hook": (
        "Stop wasting hours on {task}. {brand} does it in minutes. {cta}",
        "Still doing {task} by hand? There's a better way. {cta}",
        "90% of {audience} lose leads at the same step. Here's how to fix it. {cta}",
    ),
    "benefit": (
        "{brand} helps {audience} {benefit}. {cta}",
        "With {brand}, {audience} {benefit} - without extra headcount. {cta}",
    ),
    "question": (
        "What if {audience} could {benefit}? {cta}",
        "How much time does {task} cost your team each week? {cta}",
    ),
    "story": (
        "Last {month}, a team of {audience} tried {brand} for {task}. Now they {benefit}.",
        "From chaos to calm: how one of our customers automated {task}. {cta}",
    ),
}
MONTHS = ("January", "March", "May", "June", "September", "October")

GREETINGS = (
    "Hi! I'm the {brand} assistant. How can I help you today?",
    "Hello and welcome to {brand}! What brings you here?",
    "Hey there! Ask me anything about {brand}.",
)
QUESTIONS = {
    "pricing": (
        "How much does the {plan} plan cost?",
        "Do you offer discounts for {seats} seats?",
        "Is there a free trial?",
        "What's the price difference between {plan} and Enterprise?",
        "Can I pay yearly instead of monthly?",
    ),
    "demo_request": (
        "Can I book a demo for {day}?",
        "I'd like to see the product in action",
        "Could someone walk my team through {brand}?",
        "Do you have a slot for a demo next week?",
    ),
    "support": (
        "I can't log in to my account",
        "The calendar sync stopped working yesterday",
        "How do I export my contacts?",
        "My invoice shows the wrong company name",
        "Why is the dashboard empty?",
    ),
    "other": (
        "Do you ship to {country}?",
        "what's the weather like",
        "Are you a real person?",
        "asdf",
        "Can I work for you?",
        "Tell me a joke",
    ),
}
#: Question templates that carry personal data, by intent (drawn with a small probability).
PII_QUESTIONS = {
    "pricing": ("Please send the price list to {email}",),
    "demo_request": ("Can you call me on {phone} to set up a demo?",),
    "support": ("I was charged twice on my card {card}, please refund", "My card {card} was declined"),
    "other": ("Call me back on {phone}",),
}
ANSWERS = {
    "pricing": (
        "The {plan} plan is ${price} per seat per month, billed yearly.",
        "Yes! Every plan starts with a 14-day free trial, no card needed.",
        "Teams of {seats} or more get 15% off. I can ask sales for a quote.",
    ),
    "demo_request": (
        "Happy to set that up. Demos take 30 minutes and are tailored to your team.",
        "Sure! Our team runs live demos every weekday.",
    ),
    "support": (
        "Sorry about that. Try resetting your password from the login page.",
        "You can export contacts from Settings > Data > Export.",
        "I've logged this for our support team. They usually reply within 4 hours.",
    ),
    "other": ("I'm a virtual assistant, but a human can join if you like.",),
}
ASK_CONTACT = (
    " What's the best email to send the details to?",
    " Could you share your email so our team can follow up?",
)
CONTACT_REPLIES = (
    "Sure, it's {email}",
    "{email}",
    "my email is {email} and my phone {phone}",
    "You can reach me at {email} or {phone}",
)
CONFIRMS = (
    "Thanks! Someone from our team will contact you within one business day.",
    "Got it, thank you! You'll hear from us shortly.",
)
FALLBACKS = (
    "Sorry, I didn't get that. Could you rephrase?",
    "Hmm, I'm not sure I understand. Can you say it another way?",
    "I'm still learning and didn't catch that.",
)
AGENT_INTROS = (
    "Hi, this is {agent} from the {brand} team. I'll take it from here.",
    "Thanks for waiting! I'm {agent}. Let me check that for you.",
)
AGENT_FOLLOW_UPS = (
    "I've sent you an email with the next steps. Anything else?",
    "All sorted on our side. Have a great day!",
)
PLANS = ("Starter", "Growth", "Pro")
COUNTRIES = ("Canada", "Germany", "Brazil", "India", "Kenya", "Japan")
DAYS = ("Monday", "Tuesday", "Thursday", "tomorrow", "next Friday")


def pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    """One of `options`, uniformly."""
    return options[int(rng.integers(len(options)))]


def fake_email(first: str, last: str, number: int, domain: str) -> str:
    """For example 'anna.smith12@example.com'."""
    return f"{first}.{last}{number}@{domain}"


def fake_phone(rng: np.random.Generator) -> str:
    """A phone number in the fictional 555-0100..0199 range, in one of the ways people write it."""
    area, line = pick(rng, AREA_CODES), f"01{int(rng.integers(100)):02d}"
    style = int(rng.integers(3))
    if style == 0:
        return f"+1 {area} 555 {line}"
    if style == 1:
        return f"({area}) 555-{line}"
    return f"{area}-555-{line}"


def fill(template: str, rng: np.random.Generator, **values: str) -> str:
    """Fill a template's slots with random words of the demo world (and any `values` given)."""
    words = {
        "brand": BRAND,
        "task": pick(rng, PRODUCT_TASKS),
        "audience": pick(rng, AUDIENCES),
        "benefit": pick(rng, BENEFITS),
        "cta": pick(rng, CTAS),
        "month": pick(rng, MONTHS),
        "plan": pick(rng, PLANS),
        "seats": str(int(rng.choice([5, 10, 25, 50]))),
        "price": str(int(rng.choice([19, 39, 79]))),
        "day": pick(rng, DAYS),
        "country": pick(rng, COUNTRIES),
        "agent": pick(rng, ("Maria", "Tom", "Priya", "Lukas")).strip(),
    }
    words.update(values)
    return template.format(**words)
