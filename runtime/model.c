/* STUB: replaced by the verifier. */
#include "model.h"
#include "format.h"

tml_status tml_model_load(tml_model *m, const void *data, size_t size,
                          char *err, size_t err_size)
{
    (void)m; (void)data; (void)size;
    tml_format(err, err_size, "model loading not implemented yet");
    return TML_ERROR_MODEL;
}
void tml_model_get_tensor(const tml_model *m, int32_t i, tml_model_tensor *out) { (void)m; (void)i; (void)out; }
void tml_model_get_op(const tml_model *m, int32_t i, tml_model_op *out) { (void)m; (void)i; (void)out; }
const int32_t *tml_model_inputs(const tml_model *m) { (void)m; return 0; }
const int32_t *tml_model_outputs(const tml_model *m) { (void)m; return 0; }
const char *tml_model_description(const tml_model *m) { (void)m; return ""; }
const uint8_t *tml_model_table_field(const tml_model *m, uint32_t table, int field, size_t size) { (void)m; (void)table; (void)field; (void)size; return 0; }
int32_t tml_model_table_int_vector(const tml_model *m, uint32_t table, int field, const int32_t **out) { (void)m; (void)table; (void)field; (void)out; return -1; }
size_t tml_model_dtype_size(int32_t type) { (void)type; return 0; }
