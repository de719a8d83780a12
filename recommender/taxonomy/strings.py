"""The shipped taxonomy's names and cautions, marked for translation (kept in step with taxonomy.json by a test).

They are data, not code: `gettext(tag.name)` finds them in the catalog when served. A tag or caution a store adds
or rewrites has no catalog entry and is served as written.
"""

from django.utils.translation import gettext_noop

NAMES = [
    gettext_noop("Magnesium"),
    gettext_noop("Iron"),
    gettext_noop("Potassium"),
    gettext_noop("Calcium"),
    gettext_noop("Sodium"),
    gettext_noop("Chloride"),
    gettext_noop("Zinc"),
    gettext_noop("Vitamin D"),
    gettext_noop("Vitamin B12"),
    gettext_noop("Folate"),
    gettext_noop("Vitamin B6"),
    gettext_noop("Vitamin C"),
    gettext_noop("Boron"),
    gettext_noop("Sulfate"),
    gettext_noop("Magnesium Chloride"),
    gettext_noop("Magnesium Citrate"),
    gettext_noop("Magnesium Glycinate"),
    gettext_noop("Magnesium Oxide"),
    gettext_noop("Magnesium Malate"),
    gettext_noop("Magnesium Taurate"),
    gettext_noop("Magnesium L-Threonate"),
    gettext_noop("Magnesium Sulfate"),
    gettext_noop("Ferrous Sulfate"),
    gettext_noop("Ferrous Fumarate"),
    gettext_noop("Ferrous Gluconate"),
    gettext_noop("Ferrous Bisglycinate"),
    gettext_noop("Ionic Iron"),
    gettext_noop("Ferric Carboxymaltose"),
    gettext_noop("Vitamin D3"),
    gettext_noop("Vitamin D2"),
    gettext_noop("Methylcobalamin"),
    gettext_noop("Cyanocobalamin"),
    gettext_noop("Hydroxocobalamin"),
    gettext_noop("Folic Acid"),
    gettext_noop("L-Methylfolate"),
    gettext_noop("Restless Legs Syndrome"),
    gettext_noop("Iron Deficiency"),
    gettext_noop("Magnesium Deficiency"),
    gettext_noop("Vitamin D Deficiency"),
    gettext_noop("Periodic Limb Movement Disorder"),
    gettext_noop("Nocturnal Leg Cramps"),
    gettext_noop("Dehydration"),
    gettext_noop("Hemochromatosis"),
    gettext_noop("Kidney Disease"),
    gettext_noop("Sleep Quality"),
    gettext_noop("Fatigue"),
    gettext_noop("Trace Minerals"),
    gettext_noop("ConcenTrace"),
    gettext_noop("Electrolytes"),
    gettext_noop("Mega-Mag"),
    gettext_noop("Multivitamin"),
    gettext_noop("Vitamin A"),
    gettext_noop("Vitamin E"),
    gettext_noop("Vitamin K"),
    gettext_noop("Thiamin"),
    gettext_noop("Riboflavin"),
    gettext_noop("Niacin"),
    gettext_noop("Pantothenic acid"),
    gettext_noop("Biotin"),
    gettext_noop("Choline"),
    gettext_noop("Iodine"),
    gettext_noop("Selenium"),
    gettext_noop("Copper"),
    gettext_noop("Manganese"),
    gettext_noop("Chromium"),
    gettext_noop("Molybdenum"),
    gettext_noop("Phosphorus"),
]

CAUTIONS = [
    gettext_noop("Magnesium: if you have kidney disease, ask your clinician before taking magnesium supplements."),
    gettext_noop(
        "Iron: ask your clinician to check your ferritin first. Accidental overdose of iron-containing products is a leading cause of fatal poisoning in children under 6; keep iron products out of reach of children."  # noqa: E501
    ),
    gettext_noop(
        "Potassium: if you have kidney disease or take medicines that affect potassium, ask your clinician before taking potassium supplements."  # noqa: E501
    ),
]
