"""Word lists the simulator writes titles, captions, hashtags and names from.

Each vertical (by the migration's id) has adjectives, subjects, title templates and hashtags.
Templates use ``{adj}``, ``{subj}`` and ``{n}`` slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class VerticalWords:
    """The vocabulary of one vertical."""

    slug: str
    persona: str
    adjectives: tuple[str, ...]
    subjects: tuple[str, ...]
    templates: tuple[str, ...]
    hashtags: tuple[str, ...]


COMMON_TEMPLATES: Final = (
    "{adj} {subj}: honest review",
    "Day {n} of {subj}",
    "{n} things nobody tells you about {subj}",
)

VERTICAL_WORDS: Final[dict[int, VerticalWords]] = {
    1: VerticalWords(
        "food",
        "Chef",
        ("Spicy", "Crispy", "Homemade", "Grandma's", "Quick", "Late-night", "Smoky", "Tangy"),
        (
            "Sichuan noodles",
            "braised pork belly",
            "dumplings",
            "hotpot",
            "mapo tofu",
            "egg fried rice",
            "street barbecue",
            "beef noodle soup",
            "scallion pancakes",
            "mooncakes",
        ),
        ("{adj} {subj} in {n} minutes", "How I make {subj} at home", "{adj} {subj} for {n} people"),
        ("food", "recipe", "homecooking", "foodie", "streetfood", "chinesefood", "dinner"),
    ),
    2: VerticalWords(
        "gaming",
        "Gamer",
        ("Insane", "Ranked", "Speedrun", "Clutch", "Noob-to-pro", "Hidden", "Overpowered"),
        (
            "boss fight",
            "battle royale finals",
            "build guide",
            "mobile MOBA match",
            "sniper play",
            "open-world secret",
            "co-op raid",
            "combo tutorial",
        ),
        ("{adj} {subj} in {n} seconds", "I tried the {adj} {subj}", "{adj} {subj} ranked #{n}"),
        ("gaming", "gamer", "mobilegame", "esports", "gameplay", "highlights", "pro"),
    ),
    3: VerticalWords(
        "comedy",
        "Jokester",
        ("Awkward", "Unexpected", "Relatable", "Chaotic", "Wholesome", "Deadpan"),
        (
            "office prank",
            "family dinner",
            "first date",
            "roommate",
            "group chat",
            "exam week",
            "landlord call",
            "wedding speech",
        ),
        ("When the {subj} goes {adj}", "{adj} {subj} part {n}", "POV: {adj} {subj}"),
        ("comedy", "funny", "skit", "relatable", "prank", "lol", "meme"),
    ),
    4: VerticalWords(
        "education",
        "Tutor",
        ("Easy", "Visual", "Five-minute", "Exam-ready", "Fun", "Surprising"),
        (
            "calculus trick",
            "English idiom",
            "chemistry demo",
            "history story",
            "physics puzzle",
            "memory technique",
            "essay outline",
            "coding lesson",
        ),
        ("{adj} {subj} explained", "Learn a {subj} in {n} minutes", "{n} {adj} tips: {subj}"),
        ("education", "learning", "study", "knowledge", "teacher", "studytips", "science"),
    ),
    5: VerticalWords(
        "beauty",
        "Glow",
        ("Natural", "Everyday", "Glam", "Budget", "Dewy", "Five-step", "Long-lasting"),
        (
            "makeup look",
            "skincare routine",
            "lipstick swatch",
            "eyeliner",
            "hair tutorial",
            "sunscreen test",
            "nail art",
        ),
        ("{adj} {subj} in {n} minutes", "Testing a {adj} {subj}", "My {adj} {subj} routine"),
        ("beauty", "makeup", "skincare", "tutorial", "glowup", "cosmetics", "grwm"),
    ),
    6: VerticalWords(
        "rural-life",
        "Farmer",
        ("Peaceful", "Early-morning", "Harvest", "Mountain", "Old-fashioned", "Riverside"),
        (
            "rice paddy",
            "tea garden",
            "orchard",
            "village market",
            "firewood stove",
            "vegetable plot",
            "duck pond",
            "bamboo house",
        ),
        ("A {adj} day at the {subj}", "Life on the {subj}, day {n}", "{adj} {subj} chores"),
        ("rurallife", "countryside", "village", "farm", "harvest", "slowliving", "nature"),
    ),
    7: VerticalWords(
        "sports",
        "Coach",
        ("Explosive", "Beginner", "Daily", "Pro-level", "No-equipment", "Intense"),
        (
            "basketball drill",
            "football skills",
            "badminton smash",
            "running form",
            "core workout",
            "table tennis serve",
            "swimming stroke",
        ),
        ("{adj} {subj} in {n} minutes", "{n}-day {subj} challenge", "Fix your {subj}"),
        ("sports", "fitness", "workout", "training", "basketball", "football", "gym"),
    ),
    8: VerticalWords(
        "music",
        "Melody",
        ("Acoustic", "Live", "Lo-fi", "Cover", "Original", "Late-night", "Street"),
        (
            "guitar riff",
            "piano ballad",
            "erhu solo",
            "rap verse",
            "love song",
            "drum groove",
            "choir harmony",
        ),
        ("{adj} {subj} take {n}", "{adj} {subj} in one take", "Writing a {subj}, day {n}"),
        ("music", "cover", "singing", "guitar", "piano", "livemusic", "newmusic"),
    ),
    9: VerticalWords(
        "tech",
        "Geek",
        ("Budget", "Flagship", "Hidden", "Honest", "Hands-on", "Ultimate"),
        (
            "phone camera test",
            "laptop review",
            "earbuds",
            "smart home setup",
            "AI app",
            "battery test",
            "desk setup",
            "keyboard build",
        ),
        ("{adj} {subj} after {n} days", "{n} {adj} features: {subj}", "Is this {subj} worth it?"),
        ("tech", "gadgets", "review", "smartphone", "unboxing", "ai", "setup"),
    ),
    10: VerticalWords(
        "parenting",
        "Parent",
        ("Calm", "Easy", "Toddler-approved", "Screen-free", "Rainy-day", "Bedtime"),
        (
            "picky eater",
            "bedtime routine",
            "craft project",
            "homework time",
            "school lunch",
            "sibling fight",
            "potty training",
        ),
        ("{adj} {subj} hack", "Our {adj} {subj}, day {n}", "{n} tips for the {subj}"),
        ("parenting", "momlife", "dadlife", "kids", "family", "toddler", "baby"),
    ),
    11: VerticalWords(
        "travel",
        "Wanderer",
        ("Hidden", "Budget", "Sunrise", "Off-season", "Local", "Three-day"),
        (
            "Yunnan old town",
            "Guilin river",
            "Chengdu food street",
            "desert road trip",
            "island hostel",
            "mountain temple",
            "night train",
        ),
        ("{adj} {subj} guide", "{n} days at the {subj}", "Is the {subj} overrated?"),
        ("travel", "wanderlust", "trip", "explore", "travelguide", "roadtrip", "vlog"),
    ),
    12: VerticalWords(
        "virtual-3d",
        "Pixel",
        ("Hyper-real", "Low-poly", "Animated", "Glitchy", "Neon", "Procedural"),
        (
            "virtual idol",
            "3D character",
            "motion capture",
            "render test",
            "digital city",
            "avatar dance",
            "shader demo",
        ),
        ("{adj} {subj} in {n} hours", "Making a {adj} {subj}", "{subj} breakdown part {n}"),
        ("3d", "virtual", "animation", "blender", "cgi", "digitalart", "vtuber"),
    ),
    13: VerticalWords(
        "fashion",
        "Style",
        ("Minimal", "Street", "Office", "Vintage", "Capsule", "Weekend", "Oversized"),
        ("outfit", "wardrobe", "thrift haul", "sneaker drop", "coat", "hanfu look", "accessories"),
        ("{n} ways to style one {subj}", "{adj} {subj} try-on", "{adj} {subj} under {n} yuan"),
        ("fashion", "ootd", "style", "outfit", "streetwear", "haul", "lookbook"),
    ),
    14: VerticalWords(
        "pets",
        "Paws",
        ("Grumpy", "Clever", "Sleepy", "Tiny", "Rescue", "Zoomies"),
        ("cat", "corgi", "golden retriever", "hamster", "parrot", "kitten", "shiba"),
        ("My {adj} {subj}, day {n}", "{adj} {subj} learns a trick", "When the {subj} is {adj}"),
        ("pets", "cat", "dog", "cute", "petlife", "animals", "puppy"),
    ),
    15: VerticalWords(
        "automotive",
        "Driver",
        ("Electric", "Used", "Family", "Off-road", "Budget", "Track-day"),
        (
            "SUV test drive",
            "EV range test",
            "sedan review",
            "car wash",
            "dashcam moment",
            "engine sound",
            "parking tip",
        ),
        ("{adj} {subj} after {n} km", "{adj} {subj}: pros and cons", "{n} checks before a {subj}"),
        ("cars", "automotive", "ev", "testdrive", "carreview", "driving", "auto"),
    ),
    16: VerticalWords(
        "dance",
        "Groove",
        ("Viral", "Slow-motion", "Mirror", "Street", "Classical", "Couple"),
        (
            "dance challenge",
            "K-pop routine",
            "square dance",
            "hip-hop freestyle",
            "ballet barre",
            "shuffle",
            "tutorial",
        ),
        ("{adj} {subj} take {n}", "Learn the {adj} {subj}", "{adj} {subj} in {n} counts"),
        ("dance", "dancechallenge", "choreography", "kpop", "tutorial", "viral", "moves"),
    ),
}

CAPTION_OPENERS: Final = (
    "Tried this so you don't have to.",
    "Took me {n} attempts to get this right.",
    "Saving this one for later?",
    "Part of my weekly series.",
    "You asked for it, here it is.",
    "Filmed this on a rainy afternoon.",
)

CAPTION_CLOSERS: Final = (
    "Follow for more.",
    "Tell me in the comments what to try next!",
    "Share it with someone who needs this.",
    "Full details in the pinned comment.",
    "Like if you learned something.",
)

HANDLE_WORDS: Final = (
    "river",
    "cloud",
    "maple",
    "lotus",
    "panda",
    "tiger",
    "jade",
    "pearl",
    "ember",
    "breeze",
    "comet",
    "echo",
    "harbor",
    "lantern",
    "meadow",
    "nova",
    "orchid",
    "pixel",
    "quill",
    "sage",
)

NAME_ADJECTIVES: Final = (
    "Sunny",
    "Little",
    "Lucky",
    "Happy",
    "Brave",
    "Quiet",
    "Golden",
    "Wild",
    "Silver",
    "Clever",
    "Lazy",
    "Busy",
    "Gentle",
    "Swift",
    "Northern",
    "Southern",
)

INSTITUTION_WORDS: Final = (
    "Starlight",
    "Bluewave",
    "Redstone",
    "Moonrise",
    "Skyline",
    "Dragonfly",
    "Silkroad",
    "Peachtree",
    "Sunflower",
    "Northstar",
)

INSTITUTION_KINDS: Final = ("MCN", "Media", "Studio", "Network", "Entertainment")
