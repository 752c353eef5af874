"""The Search API through the official SDK's ``Search`` builder: fields, tags, folders,
prefixes, comparisons and ranges on bytes, sizes and dates, AND/OR/NOT, quoted values, sorting,
paging with next_cursor, aggregations and with_field; malformed expressions are clear 400s."""
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
from cloudinary.search import Search


@pytest.fixture(scope="module")
def shelf(server, media, tmp_path_factory):
    """Five assets under one unique tag, in a folder."""
    import uuid
    tag = f"search-{uuid.uuid4().hex[:10]}"
    made = {}
    for name, source, extra in [
        ("red balloon", "alpha-balloon.png", {"tags": [tag, "balloon"]}),
        ("blue", "alpha-balloon.png", {"tags": [tag]}),
        ("photo", "exif-orient-1.jpg", {"tags": [tag, "photo"]}),
        ("big photo", "photo-4032x3024-exif-orientation-6.jpg", {"tags": [tag, "photo"]}),
        ("clip", "portrait-720x1080-h264-aac.mp4", {"tags": [tag], "resource_type": "video"}),
    ]:
        pid = f"{tag}/{name.replace(' ', '_')}"
        made[name] = uploader.upload(str(media(source)), public_id=pid, **extra)
    return tag, made


def ids(result):
    return sorted(r["public_id"].split("/", 1)[1] for r in result["resources"])


def test_fields_tags_and_boolean_logic(shelf):
    tag, _ = shelf
    r = Search().expression(f"tags:{tag} AND tags:photo").execute()
    assert ids(r) == ["big_photo", "photo"] and r["total_count"] == 2
    r = Search().expression(f"tags:{tag} AND (format:png OR resource_type:video)").execute()
    assert ids(r) == ["blue", "clip", "red_balloon"]
    r = Search().expression(f"tags:{tag} AND NOT tags:photo -resource_type:video").execute()
    assert ids(r) == ["blue", "red_balloon"]
    r = Search().expression(f'folder="{tag}" AND public_id:{tag}/r*').execute()
    assert ids(r) == ["red_balloon"]
    r = Search().expression(f"tags:{tag} AND filename:photo*").execute()
    assert ids(r) == ["photo"], "filename is the last part of the public id"


def test_comparisons_ranges_and_dates(shelf):
    tag, made = shelf
    big = made["big photo"]["bytes"]
    r = Search().expression(f"tags:{tag} AND bytes>={big}").execute()
    assert ids(r) == ["big_photo"]
    r = Search().expression(f"tags:{tag} AND width:[100 TO 1000] AND resource_type:image").execute()
    assert ids(r) == ["blue", "photo", "red_balloon"]
    r = Search().expression(f"tags:{tag} AND width:{{150 TO *]").execute()
    assert "blue" not in ids(r) and "big_photo" in ids(r)
    r = Search().expression(f"tags:{tag} AND created_at>1d").execute()
    assert r["total_count"] == 5
    r = Search().expression(f"tags:{tag} AND created_at<2020-01-01").execute()
    assert r["total_count"] == 0


def test_sorting_paging_aggregations_and_fields(shelf):
    tag, _ = shelf
    seen, cursor, pages = [], None, 0
    while True:
        s = Search().expression(f"tags:{tag}").sort_by("public_id", "asc").max_results(2)
        if cursor:
            s = s.next_cursor(cursor)
        r = s.execute()
        seen += [x["public_id"].split("/", 1)[1] for x in r["resources"]]
        pages += 1
        cursor = r.get("next_cursor")
        if not cursor:
            break
    assert seen == ["big_photo", "blue", "clip", "photo", "red_balloon"] and pages == 3
    r = (Search().expression(f"tags:{tag}").aggregate("format").aggregate("resource_type")
         .with_field("tags").max_results(0).execute())
    assert r["resources"] == [] and r["total_count"] == 5
    assert r["aggregations"]["format"] == {"jpg": 2, "png": 2, "mp4": 1}
    assert r["aggregations"]["resource_type"] == {"image": 4, "video": 1}
    r = Search().expression(f"tags:{tag} AND tags:balloon").with_field("tags").execute()
    assert sorted(r["resources"][0]["tags"]) == sorted([tag, "balloon"])
    assert "time" in r


@pytest.mark.parametrize("expression,message", [
    ("colour:red", 'unknown field "colour"'),
    ("NOT tags:x", "cannot start with NOT"),
    ("tags:(x", "a value is missing after ':'"),
    ("width:[1 TO 2", "a range is not closed"),
    ("bytes>lots", '"lots" is not a number'),
    ("*", "a bare '*' matches nothing"),
])
def test_malformed_expressions_are_clear_400s(server, expression, message):
    with pytest.raises(cloudinary.exceptions.BadRequest) as err:
        Search().expression(expression).execute()
    assert "Invalid search expression" in str(err.value) and message in str(err.value)
