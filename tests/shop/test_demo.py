import io, json, traceback
import pytest
from recommender.services.taxonomy import taxonomy_load
from shop.catalog.importing import import_products
from shop.catalog.models import Product, NutrientAmount

H = "sku,name,brand,description,price,currency,in_stock,url,image_url,serving_size,nutrients,tags\n"
@pytest.mark.parametrize("row", [
 "A1,Thing,,,NaN,,,,,,,",
 "A1,Thing,,,123456789012,,,,,,,",
 "A1,Thing,,,1.999,,,,,,,",
 "A1,Thing,,,,,,,,,magnesium=0.00001 mg,",
 "A1,Thing,,,,,,,,,magnesium=12345678901 mg,",
 "A1,Thing,,,,,maybe,,,,,",
 "A1,Thing,,,,,,,,,folate=400 mcg DFE L-methylfolate,",
 "A1,Thing,,,,,,,,,Magnesium=4 MG,",
 "A1,Thing,,,,,,,,,vitamin-d=50 mcg D3,",
 "A1,Thing,,,,,,,,,foo=5 mg,",
 "A1,Thing,,,,,,,,,magnesium=5 mg glycinate,magnesium-glycinate=2",
 "A1,Thing,,,,,,,,,magnesium=5 mg glycinate,Magnesium",
 "A1,Thing,,,,eur,,,,,,",
 "A1,Thing,,,,,,javascript:alert(1),,,,",
])
def test_p(db, row):
    taxonomy_load(data=json.load(open("fixtures/taxonomy.json")))
    try:
        r = import_products(io.StringIO(H + row + "\n"))
        print(row, "->", r.errors, r.warnings, r.created, list(Product.objects.values_list("sku","price","in_stock","currency")), list(NutrientAmount.objects.values_list("code","amount","unit","form")))
        from recommender.models import ProductTag
        print("   tags", list(ProductTag.objects.values_list("tag__slug","relevance","status","source")))
    except Exception as e:
        print(row, "RAISES", type(e).__name__, e)
