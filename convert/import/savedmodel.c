/*
 * TensorFlow SavedModel directories written by Keras 2 (model.save('dir'),
 * tf.saved_model.save(model)) -> IR, through the Keras importer.
 *
 * saved_model.pb (protobuf, read with the subset in tf_savedmodel.proto)
 * holds a SavedObjectGraph: nodes[0] is the Keras model, a user object
 * whose metadata is the model's JSON (class_name, config, keras_version,
 * and model_config = what model.save('m.h5') stores).  Its children
 * "layer-N" are the model's layers (each with its own metadata naming the
 * layer), whose children "kernel", "bias", "gamma", ... are the variables.
 * A variable's value is in the checkpoint (variables/, tf_bundle.c) under
 * its object path: the local names on the breadth-first path from the
 * root ('.' escaped as "..", '/' as ".S"), joined by '/', plus
 * "/.ATTRIBUTES/VARIABLE_VALUE" -- e.g.
 * "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE" (the root lists
 * a layer with weights as "layer_with_weights-K" before "layer-N", so the
 * breadth-first path goes through that name).
 *
 * Keras' SavedModel metadata writes tuples as {"class_name": "__tuple__",
 * "items": [...]} and shapes as {"class_name": "TensorShape", "items":
 * [...]}; they become plain lists before the config goes to keras.c.
 */
#include "convert/import/import.h"
#include "convert/import/keras_internal.h"
#include "convert/import/tf_bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "convert/import/tf_savedmodel.pb-c.h"
#include "tools/lib/file_io.h"

#define MAX_PATH_LEN 4096
#define VAR_SUFFIX "/.ATTRIBUTES/VARIABLE_VALUE"

typedef struct sm_layer {
    char *name;
    size_t node;
} sm_layer;

typedef struct sm_ctx {
    const char *dir;
    const Tmltf__SavedObjectGraph *og;
    char **path;              /* per node: breadth-first object path */
    sm_layer *layers;
    size_t nlayers;
    tf_bundle bundle;
    uint8_t **shard;          /* data files, read on first use */
    size_t *shard_size;
} sm_ctx;

/* ------------------------------------------------------------------------
 * Paths
 * ---------------------------------------------------------------------- */

/* parent + "/" + escaped name into a new string; NULL when too long or out
 * of memory. */
static char *child_path(const char *parent, const char *name)
{
    size_t lp = strlen(parent), ln = strlen(name);
    if (lp + 1 + 2 * ln + 1 > MAX_PATH_LEN)
        return NULL;
    char *s = malloc(lp + 1 + 2 * ln + 1);
    if (!s)
        return NULL;
    size_t at = 0;
    if (lp) {
        memcpy(s, parent, lp);
        at = lp;
        s[at++] = '/';
    }
    for (size_t i = 0; i < ln; i++) {
        if (name[i] == '.') {
            s[at++] = '.';
            s[at++] = '.';
        } else if (name[i] == '/') {
            s[at++] = '.';
            s[at++] = 'S';
        } else {
            s[at++] = name[i];
        }
    }
    s[at] = '\0';
    return s;
}

/* Breadth-first over the children edges from the root, in their order;
 * a node keeps the first path that reaches it. */
static int object_paths(sm_ctx *c, char *err, size_t n)
{
    size_t count = c->og->n_nodes;
    for (size_t id = 0; id < count; id++) {
        const Tmltf__SavedObject *o = c->og->nodes[id];
        for (size_t k = 0; k < o->n_children; k++) {
            int32_t to = o->children[k]->node_id;
            if (to < 0 || (size_t)to >= count) {
                snprintf(err, n, "saved_model.pb: object %zu has a child %d outside the %zu "
                                 "objects", id, (int)to, count);
                return -1;
            }
        }
    }
    c->path = calloc(count, sizeof *c->path);
    size_t *queue = malloc(count * sizeof *queue);
    if (!c->path || !queue) {
        free(queue);
        snprintf(err, n, "out of memory");
        return -1;
    }
    c->path[0] = calloc(1, 1);
    if (!c->path[0]) {
        free(queue);
        snprintf(err, n, "out of memory");
        return -1;
    }
    size_t head = 0, tail = 0;
    queue[tail++] = 0;
    while (head < tail) {
        size_t id = queue[head++];
        const Tmltf__SavedObject *o = c->og->nodes[id];
        for (size_t k = 0; k < o->n_children; k++) {
            const Tmltf__ObjectReference *r = o->children[k];
            size_t to = (size_t)r->node_id;
            if (c->path[to])
                continue;
            c->path[to] = child_path(c->path[id], r->local_name ? r->local_name : "");
            if (c->path[to])
                queue[tail++] = to;
        }
    }
    free(queue);
    return 0;
}

/* ------------------------------------------------------------------------
 * Layers
 * ---------------------------------------------------------------------- */

static int is_layer_edge(const char *s)
{
    if (!s || strncmp(s, "layer-", 6) != 0 || !s[6])
        return 0;
    for (s += 6; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* The root's "layer-N" children, by the name in their metadata. */
static int find_layers(sm_ctx *c, char *err, size_t n)
{
    const Tmltf__SavedObject *root = c->og->nodes[0];
    c->layers = calloc(root->n_children ? root->n_children : 1, sizeof *c->layers);
    if (!c->layers) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    for (size_t k = 0; k < root->n_children; k++) {
        const Tmltf__ObjectReference *r = root->children[k];
        if (!is_layer_edge(r->local_name))
            continue;
        /* node ids were checked by object_paths() */
        const Tmltf__SavedObject *o = c->og->nodes[r->node_id];
        if (!o->user_object || !o->user_object->metadata)
            continue;
        cJSON *m = cJSON_Parse(o->user_object->metadata);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        if (cJSON_IsString(name)) {
            size_t len = strlen(name->valuestring) + 1;
            char *s = malloc(len);
            if (!s) {
                cJSON_Delete(m);
                snprintf(err, n, "out of memory");
                return -1;
            }
            memcpy(s, name->valuestring, len);
            c->layers[c->nlayers].name = s;
            c->layers[c->nlayers].node = (size_t)r->node_id;
            c->nlayers++;
        }
        cJSON_Delete(m);
    }
    return 0;
}

static const Tmltf__SavedObject *layer_node(const sm_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nlayers; i++)
        if (strcmp(c->layers[i].name, name) == 0)
            return c->og->nodes[c->layers[i].node];
    return NULL;
}

/* The variable child of a layer named one of `names` ('|'-separated), else
 * its index-th variable child; -1 if none. */
static long variable_child(const sm_ctx *c, const Tmltf__SavedObject *layer,
                           const char *names, int index)
{
    for (const char *p = names; *p;) {
        size_t len = strcspn(p, "|");
        for (size_t k = 0; k < layer->n_children; k++) {
            const Tmltf__ObjectReference *r = layer->children[k];
            const char *ln = r->local_name ? r->local_name : "";
            if (strlen(ln) == len && strncmp(ln, p, len) == 0 &&
                c->og->nodes[r->node_id]->variable)
                return r->node_id;
        }
        p += len;
        if (*p == '|')
            p++;
    }
    int seen = 0;
    for (size_t k = 0; k < layer->n_children; k++) {
        const Tmltf__ObjectReference *r = layer->children[k];
        if (c->og->nodes[r->node_id]->variable && seen++ == index)
            return r->node_id;
    }
    return -1;
}

/* ------------------------------------------------------------------------
 * Checkpoint
 * ---------------------------------------------------------------------- */

static int load_shard(sm_ctx *c, int32_t s, char *err, size_t n)
{
    if (c->shard[s])
        return 0;
    char path[MAX_PATH_LEN + 64], msg[512];
    snprintf(path, sizeof path, "%s/variables/variables.data-%05d-of-%05d", c->dir, (int)s,
             (int)c->bundle.num_shards);
    c->shard[s] = tml_read_file(path, &c->shard_size[s], msg, sizeof msg);
    if (!c->shard[s]) {
        snprintf(err, n, "variables/variables.data-%05d-of-%05d: cannot read it", (int)s,
                 (int)c->bundle.num_shards);
        return -1;
    }
    return 0;
}

static int sm_read(void *ctx, const char *layer, const char *names, int index,
                   keras_array *out, char *err, size_t n)
{
    sm_ctx *c = ctx;
    memset(out, 0, sizeof *out);
    const Tmltf__SavedObject *L = layer_node(c, layer);
    if (!L) {
        snprintf(err, n, "the SavedModel's object graph has no layer '%s'", layer);
        return -1;
    }
    long var = variable_child(c, L, names, index);
    if (var < 0) {
        snprintf(err, n, "weight '%.*s' is not in the SavedModel", (int)strcspn(names, "|"),
                 names);
        return 0;
    }
    if (!c->path[var]) {
        snprintf(err, n, "weight '%.*s' has no checkpoint path", (int)strcspn(names, "|"),
                 names);
        return -1;
    }
    char key[MAX_PATH_LEN + sizeof VAR_SUFFIX];
    snprintf(key, sizeof key, "%s%s", c->path[var], VAR_SUFFIX);
    const tf_bundle_entry *e = tf_bundle_find(&c->bundle, key);
    if (!e) {
        snprintf(err, n, "the checkpoint has no tensor '%s'", key);
        return -1;
    }
    int64_t count = tf_bundle_elements(e);
    if (e->ndims > 8 || count < 0 || count > ((int64_t)1 << 30)) {
        snprintf(err, n, "tensor '%s' is too large", key);
        return -1;
    }
    if (load_shard(c, e->shard, err, n) < 0)
        return -1;
    float *data = malloc(count ? (size_t)count * sizeof *data : sizeof *data);
    if (!data) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    char msg[512];
    if (tf_bundle_read_float(e, c->shard[e->shard], c->shard_size[e->shard], data, msg,
                             sizeof msg) < 0) {
        free(data);
        snprintf(err, n, "variables/variables.data-%05d-of-%05d: %s", (int)e->shard,
                 (int)c->bundle.num_shards, msg);
        return -1;
    }
    out->data = data;
    out->ndims = e->ndims;
    for (int32_t i = 0; i < e->ndims; i++)
        out->dims[i] = (int32_t)e->dims[i];
    out->count = (size_t)count;
    return 1;
}

static int open_bundle(sm_ctx *c, char *err, size_t n)
{
    char path[MAX_PATH_LEN + 64], msg[512];
    snprintf(path, sizeof path, "%s/variables/variables.index", c->dir);
    size_t size;
    uint8_t *buf = tml_read_file(path, &size, msg, sizeof msg);
    if (!buf) {
        snprintf(err, n, "variables/variables.index: cannot read it (no variables directory?)");
        return -1;
    }
    int rc = tf_bundle_parse(buf, size, &c->bundle, msg, sizeof msg);
    free(buf);
    if (rc < 0) {
        snprintf(err, n, "variables/variables.index: %s", msg);
        return -1;
    }
    c->shard = calloc((size_t)c->bundle.num_shards, sizeof *c->shard);
    c->shard_size = calloc((size_t)c->bundle.num_shards, sizeof *c->shard_size);
    if (!c->shard || !c->shard_size) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Config
 * ---------------------------------------------------------------------- */

/* {"class_name": "__tuple__" | "TensorShape", "items": [...]} */
static const cJSON *wrapped_list(const cJSON *v)
{
    if (!cJSON_IsObject(v))
        return NULL;
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(v, "class_name");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(v, "items");
    if (!cJSON_IsString(cls) || !cJSON_IsArray(items) ||
        (strcmp(cls->valuestring, "__tuple__") != 0 &&
         strcmp(cls->valuestring, "TensorShape") != 0))
        return NULL;
    return items;
}

/* A copy of v with the wrapped lists unwrapped; NULL when out of memory.
 * (cJSON_Parse limits the nesting, so the recursion is bounded.) */
static cJSON *plain_json(const cJSON *v)
{
    const cJSON *items = wrapped_list(v);
    if (items)
        v = items;
    if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
        return cJSON_Duplicate(v, 0);
    cJSON *out = cJSON_IsArray(v) ? cJSON_CreateArray() : cJSON_CreateObject();
    if (!out)
        return NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        cJSON *x = plain_json(e);
        if (!x) {
            cJSON_Delete(out);
            return NULL;
        }
        if (cJSON_IsArray(v))
            cJSON_AddItemToArray(out, x);
        else
            cJSON_AddItemToObject(out, e->string ? e->string : "", x);
    }
    return out;
}

static const char no_keras[] =
    "SavedModel without Keras metadata is not supported yet (graph import)";

/* The model config JSON (malloc'd) and its Keras major version. */
static char *keras_config(const Tmltf__SavedObject *root, int *keras3, char *err, size_t n)
{
    const Tmltf__SavedUserObject *u = root->user_object;
    if (!u || !u->identifier || strncmp(u->identifier, "_tf_keras_", 10) != 0 ||
        !u->metadata || !u->metadata[0]) {
        snprintf(err, n, "%s", no_keras);
        return NULL;
    }
    cJSON *meta = cJSON_Parse(u->metadata);
    if (!cJSON_IsObject(meta)) {
        cJSON_Delete(meta);
        snprintf(err, n, "saved_model.pb: the model's Keras metadata is not a JSON object");
        return NULL;
    }
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(meta, "keras_version");
    *keras3 = cJSON_IsString(ver) && ver->valuestring[0] == '3';
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(meta, "model_config");
    if (!cJSON_IsObject(cfg))
        cfg = meta;
    cJSON *plain = plain_json(cfg);
    char *json = plain ? cJSON_PrintUnformatted(plain) : NULL;
    cJSON_Delete(plain);
    cJSON_Delete(meta);
    if (!json)
        snprintf(err, n, "out of memory");
    return json;
}

/* ------------------------------------------------------------------------
 * Entry points
 * ---------------------------------------------------------------------- */

int tml_savedmodel_dir(const char *path, char *dir, size_t dir_size)
{
    struct stat st;
    char pb[MAX_PATH_LEN + 32];
    if (stat(path, &st) != 0 || strlen(path) >= MAX_PATH_LEN || strlen(path) >= dir_size)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        snprintf(pb, sizeof pb, "%s/saved_model.pb", path);
        if (stat(pb, &st) != 0 || !S_ISREG(st.st_mode))
            return 0;
        snprintf(dir, dir_size, "%s", path);
        return 1;
    }
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!S_ISREG(st.st_mode) || strcmp(base, "saved_model.pb") != 0)
        return 0;
    if (!slash)
        snprintf(dir, dir_size, ".");
    else if (slash == path)
        snprintf(dir, dir_size, "/");
    else
        snprintf(dir, dir_size, "%.*s", (int)(slash - path), path);
    return 1;
}

static void sm_free(sm_ctx *c)
{
    for (size_t i = 0; c->path && i < c->og->n_nodes; i++)
        free(c->path[i]);
    free(c->path);
    for (size_t i = 0; i < c->nlayers; i++)
        free(c->layers[i].name);
    free(c->layers);
    for (int32_t s = 0; c->shard && s < c->bundle.num_shards; s++)
        free(c->shard[s]);
    free(c->shard);
    free(c->shard_size);
    tf_bundle_free(&c->bundle);
}

int tml_import_savedmodel(const char *dir, tml_ir_graph *g, char *err, size_t err_size)
{
    char path[MAX_PATH_LEN + 32], msg[512];
    if (strlen(dir) >= MAX_PATH_LEN) {
        snprintf(err, err_size, "the SavedModel path is too long");
        return -1;
    }
    snprintf(path, sizeof path, "%s/saved_model.pb", dir);
    size_t size;
    uint8_t *buf = tml_read_file(path, &size, msg, sizeof msg);
    if (!buf) {
        snprintf(err, err_size, "%s", msg);
        return -1;
    }
    Tmltf__SavedModel *sm = tmltf__saved_model__unpack(NULL, size, buf);
    free(buf);
    if (!sm) {
        snprintf(err, err_size, "saved_model.pb is not a valid SavedModel (truncated or "
                                "corrupt protobuf)");
        return -1;
    }
    int rc = -1;
    sm_ctx c;
    memset(&c, 0, sizeof c);
    c.dir = dir;
    char *json = NULL;
    if (sm->n_meta_graphs == 0) {
        snprintf(err, err_size, "saved_model.pb has no MetaGraphDef");
        goto out;
    }
    c.og = sm->meta_graphs[0]->object_graph_def;
    if (!c.og || c.og->n_nodes == 0) {
        /* A TF1 SavedModel: a graph without an object graph. */
        snprintf(err, err_size, "%s", no_keras);
        goto out;
    }
    int keras3 = 0;
    json = keras_config(c.og->nodes[0], &keras3, err, err_size);
    if (!json || object_paths(&c, err, err_size) < 0 || find_layers(&c, err, err_size) < 0 ||
        open_bundle(&c, err, err_size) < 0)
        goto out;
    keras_weights src = {sm_read, &c, KERAS_WEIGHTS_LEGACY};
    rc = keras_import_config_src(json, &src, keras3, g, err, err_size);
out:
    free(json);
    sm_free(&c);
    tmltf__saved_model__free_unpacked(sm, NULL);
    /* Names from the file (object paths, layer names) stay on one line. */
    for (char *p = err; rc != 0 && err_size && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return rc;
}
