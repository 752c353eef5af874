"""Writes Kino's OpenAPI document: `python3 scripts/openapi.py > src/api/openapi.json`.
tests/api/openapi.rs checks the document against the server's routes in both directions."""
import json
P = lambda name, desc, schema=None, where="path", required=None: {
    "name": name, "in": where, "description": desc,
    "required": (where == "path") if required is None else required,
    "schema": schema or {"type": "string"}}
cloud = P("cloud", "The cloud name (product environment).", {"type": "string", "example": "demo"})
rt_upload = P("resource_type", "image, video, raw, or auto (upload only).", {"type": "string", "enum": ["image", "video", "raw", "auto"]})
rt = P("rt", "Resource type.", {"type": "string", "enum": ["image", "video", "raw"]})
dt = P("dt", "Delivery type.", {"type": "string", "enum": ["upload", "private", "authenticated"]})
q = lambda name, desc, schema=None: P(name, desc, schema, "query", False)
paging = [q("max_results", "Page size (1-500, default 10).", {"type": "integer", "minimum": 1, "maximum": 500}),
          q("next_cursor", "The cursor a previous page returned.")]
ERR = {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
def resp(desc, schema=None):
    r = {"200": {"description": desc, "content": {"application/json": {"schema": schema or {"type": "object"}}}}}
    for code in ("400", "401", "404"):
        r[code] = {"$ref": "#/components/responses/Error"}
    return r
basic = [{"basicAuth": []}]
def op(summary, tag, params=(), body=None, schema=None, security=basic, desc=None):
    o = {"summary": summary, "tags": [tag], "parameters": list(params), "responses": resp(summary, schema)}
    if desc: o["description"] = desc
    if body: o["requestBody"] = body
    o["security"] = security
    return o
def form(props, required=()):
    schema = {"type": "object", "properties": props}
    if required: schema["required"] = list(required)
    return {"required": bool(required), "content": {
        "application/x-www-form-urlencoded": {"schema": schema},
        "multipart/form-data": {"schema": schema},
        "application/json": {"schema": schema}}}
def jbody(props, required=()):
    schema = {"type": "object", "properties": props}
    if required: schema["required"] = list(required)
    return {"required": bool(required), "content": {
        "application/json": {"schema": schema},
        "application/x-www-form-urlencoded": {"schema": schema}}}
S = {"type": "string"}
B = {"type": "boolean"}
I = {"type": "integer"}
signed = {"api_key": S, "timestamp": I, "signature": S, "signature_algorithm": {"type": "string", "enum": ["sha1", "sha256"]}}
upload_props = dict(signed, file={"type": "string", "description": "The file (multipart), a data URI, or an http(s) URL."},
    public_id=S, folder=S, asset_folder=S, display_name=S, use_filename=B, unique_filename=B, overwrite=B,
    tags=S, context=S, type={"type": "string", "enum": ["upload", "private", "authenticated"]},
    upload_preset=S, eager=S, eager_async=B, notification_url=S, eager_notification_url=S,
    invalidate=B, backup=B, return_delete_token=B, filename_override=S)
paths = {}
def add(path, method, o):
    paths.setdefault(path, {})[method] = o
up = "Upload API"
resource = {"$ref": "#/components/schemas/Resource"}
add("/v1_1/{cloud}/upload", "post", op("Upload a file; Kino decides image, video or raw", up, [cloud], form(upload_props, ["file"]), resource, security=[]))
add("/v1_1/{cloud}/{resource_type}/upload", "post", op("Upload a file (signed, or unsigned with an unsigned preset); chunked with X-Unique-Upload-Id and Content-Range", up,
    [cloud, rt_upload, P("X-Unique-Upload-Id", "Chunked uploads: the upload's id.", where="header", required=False),
     P("Content-Range", "Chunked uploads: `bytes START-END/TOTAL`.", where="header", required=False)], form(upload_props, ["file"]), resource, security=[]))
add("/v1_1/{cloud}/{resource_type}/destroy", "post", op("Delete an asset and its derived files", up, [cloud, rt_upload], form(dict(signed, public_id=S, type=S, invalidate=B), ["public_id"]), {"type": "object", "properties": {"result": {"type": "string", "enum": ["ok", "not found"]}}}, security=[]))
add("/v1_1/{cloud}/{resource_type}/rename", "post", op("Rename an asset", up, [cloud, rt_upload], form(dict(signed, from_public_id=S, to_public_id=S, type=S, to_type=S, overwrite=B, invalidate=B), ["from_public_id", "to_public_id"]), resource, security=[]))
add("/v1_1/{cloud}/{resource_type}/explicit", "post", op("Apply eager transformations, tags or context to an uploaded asset", up, [cloud, rt_upload], form(dict(signed, public_id=S, type=S, eager=S, eager_async=B, tags=S, context=S, notification_url=S), ["public_id"]), resource, security=[]))
add("/v1_1/{cloud}/{resource_type}/tags", "post", op("Add, remove or replace tags on assets", up, [cloud, rt_upload], form(dict(signed, tag=S, public_ids=S, command={"type": "string", "enum": ["add", "remove", "replace", "remove_all"]}, type=S), ["command"]), {"type": "object", "properties": {"public_ids": {"type": "array", "items": S}}}, security=[]))
add("/v1_1/{cloud}/{resource_type}/context", "post", op("Add or remove contextual metadata on assets", up, [cloud, rt_upload], form(dict(signed, context=S, public_ids=S, command={"type": "string", "enum": ["add", "remove_all"]}, type=S), ["command"]), {"type": "object", "properties": {"public_ids": {"type": "array", "items": S}}}, security=[]))
add("/v1_1/{cloud}/{resource_type}/metadata", "post", op("Set structured metadata on assets", up, [cloud, rt_upload], form(dict(signed, metadata=S, public_ids=S, type=S, clear_invalid=B), ["metadata", "public_ids"]), {"type": "object", "properties": {"public_ids": {"type": "array", "items": S}}}, security=[]))
archive_props = dict(signed, public_ids={"type": "array", "items": S}, prefixes={"type": "array", "items": S}, tags={"type": "array", "items": S},
    type=S, transformations=S, mode={"type": "string", "enum": ["create", "download", "create_and_download"]}, target_format={"type": "string", "enum": ["zip"]},
    target_public_id=S, target_tags={"type": "array", "items": S}, flatten_folders=B, flatten_transformations=B, use_original_filename=B, allow_missing=B, expires_at=I)
rt_all = P("resource_type", "image, video, raw, or all.", {"type": "string", "enum": ["image", "video", "raw", "all"]})
add("/v1_1/{cloud}/{resource_type}/generate_archive", "post", op("Make a ZIP of assets (or of derived versions) and keep it as a raw asset", up, [cloud, rt_all], form(archive_props), resource, security=[]))
add("/v1_1/{cloud}/{resource_type}/generate_archive", "get", op("A ZIP of assets for a signed URL (`mode=download`)", up,
    [cloud, rt_all] + [q(k, k) for k in ("public_ids", "prefixes", "tags", "transformations", "mode", "timestamp", "api_key", "signature", "expires_at")],
    schema={"type": "string", "format": "binary"}, security=[]))
add("/v1_1/{cloud}/{resource_type}/explode", "post", op("Make one derived picture per page or frame (pg_all in the transformation), in the background", up, [cloud, rt_upload],
    form(dict(signed, public_id=S, transformation=S, format=S, type=S, notification_url=S), ["public_id", "transformation"]),
    {"type": "object", "properties": {"status": S, "batch_id": S}}, security=[]))
add("/v1_1/{cloud}/{resource_type}/multi", "post", op("Make an animated GIF/WebP or a video of the pictures that carry a tag (type multi)", up, [cloud, rt_upload],
    form(dict(signed, tag=S, transformation=S, public_id=S), ["tag"]), resource, security=[]))
add("/v1_1/{cloud}/{resource_type}/text", "post", op("Make a picture of a text (type text)", up, [cloud, rt_upload],
    form(dict(signed, text=S, public_id=S, font_family=S, font_size=I, font_color=S, font_weight=S, font_style=S, background=S), ["text"]), resource, security=[]))
add("/v1_1/{cloud}/{resource_type}/sprite", "post", op("Stack the pictures of a tag into a sprite with CSS and JSON (type sprite)", up, [cloud, rt_upload],
    form(dict(signed, tag=S, transformation=S), ["tag"]),
    {"type": "object", "properties": {k: S for k in ("public_id", "css_url", "secure_css_url", "image_url", "secure_image_url", "json_url", "secure_json_url")}}, security=[]))
ad = "Admin API"
add("/v1_1/{cloud}/ping", "get", op("Check credentials", ad, [cloud], schema={"type": "object", "properties": {"status": S}}))
add("/v1_1/{cloud}/config", "get", op("The product environment's configuration (`settings=true`: its folder mode)", ad, [cloud, q("settings", "Include settings.", B)],
    schema={"type": "object", "properties": {"cloud_name": S, "created_at": S, "settings": {"type": "object", "properties": {"folder_mode": {"type": "string", "enum": ["fixed", "dynamic"]}}}}}))
job = {"type": "object", "properties": {"id": S, "kind": S, "state": {"type": "string", "enum": ["queued", "running", "done", "failed"]}, "progress": {"type": "number", "minimum": 0, "maximum": 1}, "attempts": I, "public_id": S, "batch_id": S, "last_error": S, "created_at": S, "updated_at": S}}
add("/v1_1/{cloud}/jobs", "get", op("Background jobs, newest first, with their progress (a Kino addition)", ad, [cloud, paging[0]], schema={"type": "object", "properties": {"jobs": {"type": "array", "items": job}}}))
add("/v1_1/{cloud}/jobs/{id}", "get", op("One background job; an eager job's id is its batch_id (a Kino addition)", ad, [cloud, P("id", "The job id or batch id.")], schema=job))
add("/v1_1/{cloud}/usage", "get", op("Usage: assets, storage, derived files", ad, [cloud]))
add("/v1_1/{cloud}/usage/{date}", "get", op("Usage on a day", ad, [cloud, P("date", "dd-mm-yyyy", {"type": "string", "example": "29-11-2026"})]))
add("/v1_1/{cloud}/resources", "get", op("Resource types that hold assets", ad, [cloud], schema={"type": "object", "properties": {"resource_types": {"type": "array", "items": S}}}))
listing = [q("prefix", "Public ids starting with this."), q("type", "Delivery type."), q("public_ids", "Only these public ids (`public_ids[]=…`)."),
           q("tags", "Include tags.", B), q("context", "Include context.", B), q("direction", "asc or desc (or 1, -1).", {"type": "string", "enum": ["asc", "desc", "1", "-1"]}),
           q("start_at", "Created at or after (ISO 8601).")] + paging
page = {"$ref": "#/components/schemas/Page"}
deleting = [q("public_ids", "Delete these (`public_ids[]=…`)."), q("prefix", "Delete those starting with this."), q("all", "Delete all of this type.", B),
            q("keep_original", "Delete only derived files.", B), q("invalidate", "Purge cached copies.", B), q("next_cursor", "Continue a partial delete.")]
deleted = {"type": "object", "properties": {"deleted": {"type": "object"}, "partial": B}}
add("/v1_1/{cloud}/resources/{rt}", "get", op("List assets of a resource type", ad, [cloud, rt] + listing, schema=page))
add("/v1_1/{cloud}/resources/{rt}", "delete", op("Delete assets of a resource type", ad, [cloud, rt] + deleting, schema=deleted))
add("/v1_1/{cloud}/resources/{rt}/tags/{tag}", "get", op("List assets with a tag", ad, [cloud, rt, P("tag", "The tag.")] + listing, schema=page))
add("/v1_1/{cloud}/resources/{rt}/tags/{tag}", "delete", op("Delete assets with a tag", ad, [cloud, rt, P("tag", "The tag.")] + deleting, schema=deleted))
add("/v1_1/{cloud}/resources/{rt}/{dt}", "get", op("List assets of a resource and delivery type", ad, [cloud, rt, dt] + listing, schema=page))
add("/v1_1/{cloud}/resources/{rt}/{dt}", "delete", op("Delete assets of a resource and delivery type", ad, [cloud, rt, dt] + deleting, schema=deleted))
pid = P("public_id", "The public id (may contain `/`).")
add("/v1_1/{cloud}/resources/{rt}/{dt}/{public_id}", "get", op("An asset's details, with its derived files", ad, [cloud, rt, dt, pid, q("derived_next_cursor", "Next page of derived files."), q("versions", "Include the backed-up versions.", B)], schema=resource))
add("/v1_1/{cloud}/resources/{rt}/{dt}/{public_id}", "post", op("Update an asset's tags, context, display name", ad, [cloud, rt, dt, pid], jbody({"tags": S, "context": S, "display_name": S, "asset_folder": S}), resource))
mapping = {"type": "object", "properties": {"folder": S, "template": S}}
add("/v1_1/{cloud}/upload_mappings", "get", op("Upload mappings (with `folder`: that one mapping)", ad, [cloud, q("folder", "One mapping's folder.")] + paging,
    schema={"type": "object", "properties": {"mappings": {"type": "array", "items": mapping}, "next_cursor": S, "folder": S, "template": S}}))
add("/v1_1/{cloud}/upload_mappings", "post", op("Map a folder to an origin URL prefix: missing assets under it are pulled on first delivery", ad, [cloud], jbody({"folder": S, "template": S}, ["folder", "template"])))
add("/v1_1/{cloud}/upload_mappings", "put", op("Change a mapping's template", ad, [cloud], jbody({"folder": S, "template": S}, ["folder", "template"])))
add("/v1_1/{cloud}/upload_mappings", "delete", op("Delete a mapping", ad, [cloud, q("folder", "The mapping's folder.")]))
restored = {"type": "object", "additionalProperties": {"type": "object"}, "description": "Per public id or asset id: the restored resource, or {\"error\": \"no_backup\"}."}
add("/v1_1/{cloud}/resources/{rt}/{dt}/restore", "post", op("Restore assets from their backed-up versions", ad, [cloud, rt, dt],
    jbody({"public_ids": {"type": "array", "items": S}, "versions": {"type": "array", "items": S}}, ["public_ids"]), restored))
add("/v1_1/{cloud}/resources/restore", "post", op("Restore assets by asset id", ad, [cloud],
    jbody({"asset_ids": {"type": "array", "items": S}, "versions": {"type": "array", "items": S}}, ["asset_ids"]), restored))
add("/v1_1/{cloud}/resources/backup/{asset_id}", "delete", op("Delete backed-up versions of an asset", ad, [cloud, P("asset_id", "The asset id."), q("version_ids", "The versions (`version_ids[]=…`).")],
    schema={"type": "object", "properties": {"asset_id": S, "deleted_version_ids": {"type": "array", "items": S}}}))
add("/v1_1/{cloud}/download_backup", "get", op("Download a backed-up version (a URL signed like an Upload API call)", ad,
    [cloud, q("asset_id", "The asset id."), q("version_id", "The version id."), q("timestamp", "Unix seconds.", I), q("api_key", "The API key."), q("signature", "The signature.")],
    schema={"type": "string", "format": "binary"}, security=[]))
entry = {"type": "object", "properties": {"external_id": S, "value": S, "state": {"type": "string", "enum": ["active", "inactive"]}}, "required": ["value"]}
mfield = {"type": "object", "properties": {"type": {"type": "string", "enum": ["string", "integer", "date", "enum", "set"]}, "external_id": S, "label": S,
    "mandatory": B, "default_value": {}, "default_disabled": B, "validation": {"type": "object"}, "datasource": {"type": "object", "properties": {"values": {"type": "array", "items": entry}}},
    "restrictions": {"type": "object"}}}
mfields = "/v1_1/{cloud}/metadata_fields"
fid = P("id", "The field's external id.")
def jonly(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}
ids_body = jonly({"type": "object", "properties": {"external_ids": {"type": "array", "items": S}}, "required": ["external_ids"]})
order_body = lambda by: jonly({"type": "object", "properties": {"order_by": {"type": "string", "enum": by}, "direction": {"type": "string", "enum": ["asc", "desc"]}}, "required": ["order_by"]})
add(mfields, "get", op("Structured metadata fields, in list order", ad, [cloud], schema={"type": "object", "properties": {"metadata_fields": {"type": "array", "items": mfield}}}))
add(mfields, "post", op("Create a metadata field (string, integer, date, enum, set)", ad, [cloud], jonly(dict(mfield, required=["type", "label"])), mfield))
add(mfields + "/order", "put", op("Order the fields by label or external_id", ad, [cloud], order_body(["label", "external_id"])))
add(mfields + "/{id}", "get", op("A metadata field", ad, [cloud, fid], schema=mfield))
add(mfields + "/{id}", "put", op("Update a metadata field (not its type)", ad, [cloud, fid], jonly(mfield), mfield))
add(mfields + "/{id}", "delete", op("Delete a metadata field and its values", ad, [cloud, fid]))
datasource = {"type": "object", "properties": {"values": {"type": "array", "items": entry}}}
add(mfields + "/{id}/datasource", "put", op("Add datasource entries or change their values", ad, [cloud, fid], jonly(datasource), datasource))
add(mfields + "/{id}/datasource", "delete", op("Deactivate datasource entries", ad, [cloud, fid], ids_body, datasource))
add(mfields + "/{id}/datasource_restore", "post", op("Reactivate datasource entries", ad, [cloud, fid], ids_body, datasource))
add(mfields + "/{id}/datasource/order", "post", op("Order a datasource by value", ad, [cloud, fid], order_body(["value"]), datasource))
search_props = {"expression": S, "sort_by": {"type": "array", "items": {"type": "object"}}, "max_results": {"type": "integer", "minimum": 0, "maximum": 500},
                "next_cursor": S, "aggregate": {"type": "array", "items": S}, "with_field": {"type": "array", "items": S}}
found = {"type": "object", "properties": {"total_count": I, "time": I, "resources": {"type": "array", "items": resource}, "next_cursor": S, "aggregations": {"type": "object"}}}
add("/v1_1/{cloud}/resources/search", "post", op("Search assets with an expression (tags:cat AND bytes>1000000)", ad, [cloud], jbody(search_props), found))
add("/v1_1/{cloud}/resources/search", "get", op("Search assets (the body's fields as query parameters)", ad, [cloud, q("expression", "The search expression."), q("max_results", "0 to 500 (default 50).", {"type": "integer", "minimum": 0, "maximum": 500}), q("next_cursor", "The cursor a previous page returned."), q("sort_by", "JSON list, e.g. [{\"created_at\":\"desc\"}]."), q("aggregate", "format, resource_type, type (comma-separated).")], schema=found))
add("/v1_1/{cloud}/derived_resources", "delete", op("Delete derived files by id", ad, [cloud, q("derived_resource_ids", "The ids (`derived_resource_ids[]=…`).")], schema=deleted))
add("/v1_1/{cloud}/tags/{rt}", "get", op("List tags", ad, [cloud, rt, q("prefix", "Tags starting with this.")] + paging, schema={"type": "object", "properties": {"tags": {"type": "array", "items": S}}}))
folders = {"type": "object", "properties": {"folders": {"type": "array", "items": {"type": "object", "properties": {"name": S, "path": S}}}}}
add("/v1_1/{cloud}/folders", "get", op("Root folders", ad, [cloud] + paging, schema=folders))
fpath = P("path", "The folder path (may contain `/`).")
add("/v1_1/{cloud}/folders/{path}", "get", op("Subfolders", ad, [cloud, fpath] + paging, schema=folders))
add("/v1_1/{cloud}/folders/{path}", "post", op("Create a folder", ad, [cloud, fpath]))
add("/v1_1/{cloud}/folders/{path}", "delete", op("Delete an empty folder", ad, [cloud, fpath]))
tx = P("name", "The named transformation (without `t_`).")
add("/v1_1/{cloud}/transformations", "get", op("List transformations, or one with `transformation=`", ad, [cloud, q("transformation", "A name or transformation string."), q("named", "Only named ones.", B)] + paging))
add("/v1_1/{cloud}/transformations", "post", op("Create a named transformation (SDK form)", ad, [cloud], jbody({"name": S, "transformation": S, "allowed_for_strict": B}, ["name", "transformation"])))
add("/v1_1/{cloud}/transformations", "put", op("Update a named transformation (SDK form)", ad, [cloud], jbody({"transformation": S, "allowed_for_strict": B, "unsafe_update": S}, ["transformation"])))
add("/v1_1/{cloud}/transformations", "delete", op("Delete a named transformation (SDK form)", ad, [cloud, q("transformation", "The name.")]))
add("/v1_1/{cloud}/transformations/{name}", "get", op("A named transformation", ad, [cloud, tx] + paging))
add("/v1_1/{cloud}/transformations/{name}", "post", op("Create a named transformation", ad, [cloud, tx], jbody({"transformation": S, "allowed_for_strict": B}, ["transformation"])))
add("/v1_1/{cloud}/transformations/{name}", "put", op("Update a named transformation", ad, [cloud, tx], jbody({"transformation": S, "allowed_for_strict": B, "unsafe_update": S})))
add("/v1_1/{cloud}/transformations/{name}", "delete", op("Delete a named transformation", ad, [cloud, tx]))
preset_props = {"name": S, "unsigned": B, "disallow_public_id": B, "settings": {"type": "object"}, "folder": S, "tags": S, "eager": S, "overwrite": B, "use_filename": B, "unique_filename": B}
pn = P("name", "The preset's name.")
add("/v1_1/{cloud}/upload_presets", "get", op("List upload presets", ad, [cloud] + paging))
add("/v1_1/{cloud}/upload_presets", "post", op("Create an upload preset", ad, [cloud], jbody(preset_props)))
add("/v1_1/{cloud}/upload_presets/{name}", "get", op("An upload preset", ad, [cloud, pn]))
add("/v1_1/{cloud}/upload_presets/{name}", "put", op("Update an upload preset", ad, [cloud, pn], jbody(preset_props)))
add("/v1_1/{cloud}/upload_presets/{name}", "delete", op("Delete an upload preset", ad, [cloud, pn]))
spn = P("name", "The profile's name.")
sp_props = {"name": S, "display_name": S, "representations": {"type": "string", "description": "JSON list of `{\"transformation\": …}`."}}
add("/v1_1/{cloud}/streaming_profiles", "get", op("List streaming profiles", ad, [cloud]))
add("/v1_1/{cloud}/streaming_profiles", "post", op("Create a streaming profile", ad, [cloud], jbody(sp_props, ["name", "representations"])))
add("/v1_1/{cloud}/streaming_profiles/{name}", "get", op("A streaming profile", ad, [cloud, spn]))
add("/v1_1/{cloud}/streaming_profiles/{name}", "put", op("Update a streaming profile", ad, [cloud, spn], jbody(sp_props)))
add("/v1_1/{cloud}/streaming_profiles/{name}", "delete", op("Delete a custom streaming profile", ad, [cloud, spn]))
lv = "Live Streaming API"
lid = P("id", "The live stream's id.")
oid = P("output_id", "The output's id.")
live_props = {"name": S, "input": {"type": "object", "properties": {"type": {"type": "string", "enum": ["rtmp", "srt"]}}}, "idle_timeout_sec": I, "max_runtime_sec": I}
add("/v2/video/{cloud}/live_streams", "get", op("List live streams", lv, [cloud]))
add("/v2/video/{cloud}/live_streams", "post", op("Create a live stream", lv, [cloud], jbody(live_props)))
add("/v2/video/{cloud}/live_streams/{id}", "get", op("A live stream", lv, [cloud, lid]))
add("/v2/video/{cloud}/live_streams/{id}", "patch", op("Update a live stream", lv, [cloud, lid], jbody(live_props)))
add("/v2/video/{cloud}/live_streams/{id}", "delete", op("Delete a live stream", lv, [cloud, lid]))
add("/v2/video/{cloud}/live_streams/{id}/activate", "post", op("Accept a publisher", lv, [cloud, lid]))
add("/v2/video/{cloud}/live_streams/{id}/idle", "post", op("Refuse publishers", lv, [cloud, lid]))
out_props = {"name": S, "type": S, "uri": S, "stream_key": S}
add("/v2/video/{cloud}/live_streams/{id}/outputs", "get", op("A live stream's outputs", lv, [cloud, lid]))
add("/v2/video/{cloud}/live_streams/{id}/outputs", "post", op("Add an output", lv, [cloud, lid], jbody(out_props)))
add("/v2/video/{cloud}/live_streams/{id}/outputs/{output_id}", "get", op("An output", lv, [cloud, lid, oid]))
add("/v2/video/{cloud}/live_streams/{id}/outputs/{output_id}", "patch", op("Update an output", lv, [cloud, lid, oid], jbody(out_props)))
add("/v2/video/{cloud}/live_streams/{id}/outputs/{output_id}", "delete", op("Remove an output", lv, [cloud, lid, oid]))
pv = "Provisioning API"
keys = "/v1_1/provisioning/accounts/{account}/sub_accounts/{environment}/access_keys"
account = [P("account", "The account id (of CLOUDINARY_ACCOUNT_URL).")]
subs = "/v1_1/provisioning/accounts/{account}/sub_accounts"
env_props = {"name": S, "cloud_name": S, "enabled": B, "custom_attributes": {"type": "object"}}
environment = {"type": "object", "properties": {"id": S, "name": S, "cloud_name": S, "enabled": B, "created_at": S,
    "custom_attributes": {"type": "object"}, "api_access_keys": {"type": "array", "items": {"type": "object", "properties": {"key": S, "secret": S, "enabled": B}}}}}
add(subs, "get", op("List product environments", pv, account + [q("enabled", "Only enabled (true) or disabled (false) ones.", B),
    q("ids", "Only these ids (the other filters are then ignored)."), q("prefix", "Names starting with this (any case).")],
    schema={"type": "object", "properties": {"sub_accounts": {"type": "array", "items": environment}}}))
add(subs, "post", op("Create a product environment (a cloud with its own keys, assets and settings)", pv, account,
    jbody(dict(env_props, base_sub_account_id=S), ["name"]), environment,
    desc="`base_sub_account_id` copies that environment's upload presets, named transformations, streaming profiles, metadata fields and upload mappings. Without `cloud_name`, one is made from the name."))
eid = P("id", "The product environment id.")
add(subs + "/{id}", "get", op("A product environment", pv, account + [eid], schema=environment))
add(subs + "/{id}", "put", op("Rename, enable, disable or relabel a product environment", pv, account + [eid], jbody(env_props), environment,
    desc="A new `cloud_name` moves every asset and setting with it; URLs under the old name stop working. The primary environment (of CLOUDINARY_URL) cannot be renamed or disabled."))
add(subs + "/{id}", "delete", op("Delete a product environment with all its assets, derived files, settings and keys", pv, account + [eid]))
acc = account + [P("environment", "The product environment id.")]
key_props = {"name": S, "enabled": B}
add(keys, "get", op("List API keys", pv, acc + [q("page_size", "Page size.", I), q("page", "Page number.", I), q("sort_by", "Field."), q("sort_order", "asc or desc.")]))
add(keys, "post", op("Generate an API key", pv, acc, jbody(key_props)))
add(keys, "delete", op("Delete an API key by name", pv, acc + [q("name", "The key's name.")]))
kp = P("api_key", "The API key.")
add(keys + "/{api_key}", "put", op("Rename, enable or disable an API key", pv, acc + [kp], jbody(key_props)))
add(keys + "/{api_key}", "delete", op("Delete an API key", pv, acc + [kp]))
doc = {
    "openapi": "3.0.3",
    "info": {"title": "Kino Upload, Admin, Live Streaming and Provisioning APIs", "version": "1.0.0",
             "description": "Kino speaks Cloudinary's wire protocols: point the official SDKs at it by configuration alone. Upload API calls are authenticated by a signature over their parameters (`api_key`, `timestamp`, `signature`), or by an unsigned upload preset; the other APIs by HTTP basic auth with the API key and secret. Errors are `{\"error\":{\"message\":…}}`."},
    "servers": [{"url": "/"}],
    "tags": [{"name": t} for t in (up, ad, lv, pv)],
    "paths": paths,
    "components": {
        "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
        "responses": {"Error": ERR},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["message"], "properties": {"message": S}}}},
            "Resource": {"type": "object", "properties": {k: v for k, v in {
                "asset_id": S, "public_id": S, "version": I, "version_id": S, "signature": S, "width": I, "height": I, "format": S,
                "resource_type": S, "type": S, "created_at": S, "bytes": I, "url": S, "secure_url": S, "tags": {"type": "array", "items": S},
                "duration": {"type": "number"}, "derived": {"type": "array", "items": {"type": "object"}}}.items()}},
            "Page": {"type": "object", "properties": {"resources": {"type": "array", "items": {"$ref": "#/components/schemas/Resource"}}, "next_cursor": S}},
        }},
}
print(json.dumps(doc, indent=1))
