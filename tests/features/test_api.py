"""The seed's feature API, registration from data, and feature sets."""

from __future__ import annotations

import pytest

from apps.datasets.models import DatasetVersion
from apps.features.models import Feature, FeatureSet, FeatureVersion
from apps.features.services import feature_set_lock
from apps.users.models import Role
from tests.core.test_api_conventions import assert_error
from tests.factories import TagFactory
from tests.sample_data import CREDIT_CSV

pytestmark = pytest.mark.django_db

SEED = {
    "name": "user_age",
    "displayName": "用户年龄",
    "description": "Age of the applicant in years",
    "type": "numerical",
    "dataType": "int64",
    "shape": [1],
    "tags": ["demographic", "core"],
    "metadata": {"unit": "year"},
}


def create(api, **overrides):
    return api.post("/api/features", {**SEED, **overrides}, format="json")


def test_create_answers_the_seed_feature_shape(api):
    response = create(api)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["success"] is True
    feature = body["data"]
    assert set(feature) >= {
        "id",
        "name",
        "displayName",
        "description",
        "type",
        "dataType",
        "shape",
        "version",
        "tags",
        "metadata",
        "createdAt",
        "updatedAt",
    }
    assert feature["version"] == "1" and feature["tags"] == ["core", "demographic"]
    assert feature["displayName"] == "用户年龄" and feature["metadata"] == {"unit": "year"}


def test_list_filters_by_type_tags_and_search(api):
    create(api)
    create(
        api,
        name="transaction_amount",
        type="numerical",
        tags=["transaction", "core"],
        displayName="交易金额",
        description="Amount of the transaction",
    )
    create(api, name="city", type="categorical", tags=["demographic"], description="Home city")

    def names(params):
        body = api.get("/api/features", params).json()
        assert set(body) == {"data", "total", "page", "pageSize"}
        return [f["name"] for f in body["data"]]

    assert names({"type": "numerical"}) == ["transaction_amount", "user_age"]
    assert names({"tags": "core"}) == ["transaction_amount", "user_age"]
    assert names({"tags": ["core", "demographic"]}) == ["user_age"]
    assert names({"tags": "core,transaction"}) == ["transaction_amount"]
    assert names({"search": "交易"}) == ["transaction_amount"]
    assert names({"search": "city"}) == ["city"]
    assert names({"type": "numerical", "tags": "demographic", "search": "age"}) == ["user_age"]
    assert names({"ordering": "-name", "pageSize": 2}) == ["user_age", "transaction_amount"]


def test_get_and_put_with_a_definition_change_makes_a_new_version(api):
    feature_id = create(api).json()["data"]["id"]
    assert api.get(f"/api/features/{feature_id}").json()["version"] == "1"
    response = api.put(
        f"/api/features/{feature_id}", {**SEED, "description": "Age at application"}, format="json"
    )
    assert response.json()["data"]["version"] == "1"  # description only: same version
    response = api.put(f"/api/features/{feature_id}", {**SEED, "dataType": "float64"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["version"] == "2"
    versions = api.get(f"/api/features/{feature_id}/versions").json()
    assert [(v["version"], v["dataType"]) for v in versions["data"]] == [(2, "float64"), (1, "int64")]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"type": "image"}, "type"),
        ({"name": "1abc"}, "name"),
        ({"name": "has space"}, "name"),
        ({"tags": ["ok", "bad tag!"]}, "tags"),
        ({"tags": "core"}, "tags"),
        ({"shape": [0]}, "shape"),
        ({"shape": "1x2"}, "shape"),
        ({"metadata": [1, 2]}, "metadata"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_feature_input_is_a_field_error_and_nothing_is_created(api, overrides, field):
    body = assert_error(create(api, **overrides), 400, "validation_error")
    assert field in body["errors"], body
    assert not Feature.objects.exists()


def test_duplicate_name_is_409(api):
    create(api)
    assert_error(create(api), 409, "conflict")
    assert Feature.objects.count() == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageSize": 500}, "pageSize"),
        ({"page": 0}, "page"),
        ({"ordering": "secret"}, "ordering"),
        ({"type": "image"}, "type"),
        ({"tags": "bad tag!"}, "tags"),
        ({"sort": "name"}, "sort"),
    ],
)
def test_bad_list_queries_are_400(api, params, field):
    body = assert_error(api.get("/api/features", params), 400, "validation_error")
    assert field in body["errors"]


@pytest.fixture
def credit(upload):
    response = upload(CREDIT_CSV, "credit.csv", name="credit", labelColumn="is_bad")
    return DatasetVersion.objects.get(pk=response.json()["data"]["id"])


def test_register_from_data_in_one_step(api, credit):
    proposals = api.post("/api/features/propose", {"dataset": credit.dataset_id}, format="json").json()[
        "data"
    ]
    columns = {c["column"]: c for c in proposals["columns"]}
    assert "is_bad" not in columns  # the label is not a feature
    # 5 distinct cities in 6 rows reads as free text, not a category.
    assert columns["user_age"]["type"] == "numerical" and columns["city"]["type"] == "text"
    assert columns["income"]["statistics"]["iv"]["iv"] >= 0

    response = api.post(
        "/api/features/register",
        {
            "dataset": credit.dataset_id,
            "columns": [
                {"column": "user_age"},
                {"column": "income", "name": "income_cny"},
                {"column": "city", "tags": ["geo"]},
            ],
            "tags": ["credit"],
            "featureSet": {"name": "credit-basic"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert [f["name"] for f in data["features"]] == ["user_age", "income_cny", "city"]
    assert data["featureSet"]["name"] == "credit-basic" and data["featureSet"]["version"] == 1
    assert [i["name"] for i in data["featureSet"]["items"]] == ["user_age", "income_cny", "city"]
    version = FeatureVersion.objects.get(feature__name="income_cny")
    assert version.dataset_version == credit and version.statistics["iv"]["binning"]["method"] == "quantile"
    tagged = api.get("/api/features", {"tags": "credit"}).json()
    assert tagged["total"] == 3
    assert api.get("/api/features", {"tags": ["credit", "geo"]}).json()["total"] == 1
    detail = api.get(f"/api/features/{data['features'][0]['id']}").json()
    assert detail["statistics"]["count"] == 5 and detail["featureSets"][0]["name"] == "credit-basic"


def test_register_again_makes_new_versions(api, credit):
    body = {"dataset": credit.dataset_id, "columns": [{"column": "user_age"}]}
    api.post("/api/features/register", body, format="json")
    api.post("/api/features/register", body, format="json")
    assert Feature.objects.get(name="user_age").version == 2
    assert FeatureVersion.objects.filter(feature__name="user_age").count() == 2


def test_register_from_a_dataset_that_is_not_validated_is_refused(api, upload):
    response = upload(CREDIT_CSV, "c.csv", name="pending", validate=False)
    dataset_id = response.json()["data"]["dataset"]
    for path, body in [
        ("/api/features/propose", {"dataset": dataset_id}),
        ("/api/features/register", {"dataset": dataset_id, "columns": [{"column": "user_age"}]}),
    ]:
        error = assert_error(api.post(path, body, format="json"), 400, "validation_error")
        assert "validated" in error["errors"]["dataset"][0]
    assert not Feature.objects.exists()


def test_register_bad_requests(api, credit):
    def post(body):
        return api.post("/api/features/register", {"dataset": credit.dataset_id, **body}, format="json")

    assert "columns" in assert_error(post({"columns": []}), 400, "validation_error")["errors"]
    assert (
        "dataset" in assert_error(post({"columns": [{"column": "nope"}]}), 400, "validation_error")["errors"]
    )
    bad = api.post("/api/features/register", {"dataset": 9999, "columns": [{"column": "x"}]}, format="json")
    assert "dataset" in assert_error(bad, 400, "validation_error")["errors"]
    assert not Feature.objects.exists()


def test_feature_sets_are_versioned_and_locked_ones_refuse_edits(api, credit):
    api.post(
        "/api/features/register",
        {"dataset": credit.dataset_id, "columns": [{"column": "user_age"}, {"column": "income"}]},
        format="json",
    )
    ids = list(Feature.objects.order_by("name").values_list("pk", flat=True))
    created = api.post(
        "/api/feature-sets",
        {"name": "s", "dataset": credit.dataset_id, "features": ids, "labelColumn": "is_bad"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    set_id = created.json()["data"]["id"]
    edited = api.put(
        f"/api/feature-sets/{set_id}",
        {"name": "s", "dataset": credit.dataset_id, "features": ids[:1], "description": "age only"},
        format="json",
    )
    assert edited.status_code == 200 and len(edited.json()["data"]["items"]) == 1

    feature_set_lock(feature_set=FeatureSet.objects.get(pk=set_id))
    refused = api.put(
        f"/api/feature-sets/{set_id}",
        {"name": "s", "dataset": credit.dataset_id, "features": ids, "description": "changed"},
        format="json",
    )
    assert_error(refused, 409, "conflict")
    assert FeatureSet.objects.get(pk=set_id).description == "age only"
    bumped = api.post(f"/api/feature-sets/{set_id}/new-version", {"features": ids}, format="json")
    assert bumped.status_code == 201, bumped.json()
    assert bumped.json()["data"]["version"] == 2
    assert len(bumped.json()["data"]["items"]) == 2


@pytest.mark.parametrize(
    ("role", "status"), [(Role.ANALYST, 201), (Role.ADMIN, 201), (Role.INTEGRATOR, 201), (Role.VIEWER, 403)]
)
def test_who_may_create_features(client_for, make_user, role, status):
    client = client_for(make_user(role))
    assert create(client).status_code == status
    assert client.get("/api/features").status_code == 200


def test_tag_filter_follows_every_way_tags_change(api):
    from apps.features.models import Tag

    feature_id = create(api).json()["data"]["id"]
    feature = Feature.objects.get(pk=feature_id)
    assert feature.tag_text == " core demographic "
    Tag.objects.get(name="core").features.remove(feature)  # the reverse side, as the admin may
    assert api.get("/api/features", {"tags": "core"}).json()["total"] == 0
    feature.tags.add(TagFactory(name="risk"))
    assert [f["name"] for f in api.get("/api/features", {"tags": "risk"}).json()["data"]] == ["user_age"]
    feature.tags.clear()
    assert Feature.objects.get(pk=feature_id).tag_text == " "
    assert api.get("/api/features", {"tags": "nosuchtag"}).json()["total"] == 0


def test_string_columns_report_their_logical_type(api, credit):
    proposals = api.post("/api/features/propose", {"dataset": credit.dataset_id}, format="json").json()[
        "data"
    ]
    types = {c["column"]: c["dataType"] for c in proposals["columns"]}
    assert types["city"] == "string" and types["income"] == "int64"


def test_register_page_with_a_bad_dataset_id_is_404(client, make_user):
    client.force_login(make_user(Role.ANALYST))
    assert client.get("/features/register/", {"dataset": "abc"}).status_code == 404
    assert client.get("/features/register/", {"dataset": "999"}).status_code == 404


def test_a_dataset_with_registered_features_cannot_be_deleted(api, credit):
    api.post(
        "/api/features/register",
        {"dataset": credit.dataset_id, "columns": [{"column": "user_age"}]},
        format="json",
    )
    body = assert_error(api.delete(f"/api/datasets/{credit.dataset_id}"), 409, "conflict")
    assert "archive" in body["message"]
    assert DatasetVersion.objects.filter(pk=credit.pk).exists()
    assert api.post(f"/api/datasets/{credit.dataset_id}/archive", {}, format="json").status_code == 200


def test_not_ready_is_an_invalid_request_naming_the_dataset(api, upload, admin_user):
    from apps.core.errors import Invalid
    from apps.features import services

    response = upload(CREDIT_CSV, "c.csv", name="pending", validate=False)
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    with pytest.raises(Invalid) as caught:
        services.features_propose(dataset_version=version)
    message = str(caught.value)
    assert "only validated versions can be used" in message
    assert caught.value.errors == {"dataset": [message]} and caught.value.code == "validation_error"
    refused = api.post("/api/features/propose", {"dataset": version.dataset_id}, format="json")
    body = assert_error(refused, 400, "validation_error")
    assert body["message"] == f"Invalid input: dataset: {message}"
    assert body["errors"] == {"dataset": [message]}


def test_a_taken_name_and_a_locked_set_are_conflicts_of_the_platform(api, credit, admin_user):
    from apps.core.errors import Conflict
    from apps.features import services
    from apps.features.selectors import current_versions

    assert create(api).status_code == 201
    with pytest.raises(Conflict):
        services.feature_create(name="user_age", type="numerical", user=admin_user)
    feature_set = services.feature_set_create(
        name="s",
        dataset_version=credit,
        feature_versions=current_versions(list(Feature.objects.all())),
        user=admin_user,
    )
    feature_set_lock(feature_set=feature_set)
    with pytest.raises(Conflict) as caught:
        services.feature_set_update(feature_set=feature_set, user=admin_user, description="x")
    assert caught.value.code == "conflict" and "create a new version" in caught.value.message
