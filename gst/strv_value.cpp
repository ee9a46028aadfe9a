// GStreamer 1.22 has no text form for GStrv: gst_value_serialize returns NULL, so
// `gst-launch-1.0 -v` prints "local-candidates = (null)" and a GStrv structure field prints as
// "(GStrv)NULL". Registered only when GStreamer has none, the form is GstValueArray's
// (< "a", "b" >), so every string reads back exactly.
#include "strv_value.h"

namespace gstdtls {
namespace {

gchar* serialize_strv(const GValue* value) {
  GValue array = G_VALUE_INIT;
  g_value_init(&array, GST_TYPE_ARRAY);
  if (auto strv = static_cast<const gchar* const*>(g_value_get_boxed(value))) {
    for (const gchar* const* item = strv; *item; ++item) {
      GValue element = G_VALUE_INIT;
      g_value_init(&element, G_TYPE_STRING);
      g_value_set_string(&element, *item);
      gst_value_array_append_and_take_value(&array, &element);
    }
  }
  gchar* text = gst_value_serialize(&array);
  g_value_unset(&array);
  return text;
}

gboolean deserialize_strv(GValue* value, const gchar* text) {
  GValue array = G_VALUE_INIT;
  g_value_init(&array, GST_TYPE_ARRAY);
  gboolean ok = gst_value_deserialize(&array, text);
  GStrvBuilder* builder = g_strv_builder_new();
  for (guint i = 0; ok && i < gst_value_array_get_size(&array); ++i) {
    const GValue* element = gst_value_array_get_value(&array, i);
    ok = G_VALUE_HOLDS_STRING(element);
    if (ok) g_strv_builder_add(builder, g_value_get_string(element));
  }
  GStrv strv = g_strv_builder_end(builder);
  g_strv_builder_unref(builder);
  if (ok)
    g_value_take_boxed(value, strv);
  else
    g_strfreev(strv);
  g_value_unset(&array);
  return ok;
}

bool core_serializes_strv() {
  GValue value = G_VALUE_INIT;
  g_value_init(&value, G_TYPE_STRV);
  const gchar* const probe[] = {"probe", nullptr};
  g_value_set_boxed(&value, probe);
  gchar* text = gst_value_serialize(&value);
  const bool serialized = text != nullptr;
  g_value_unset(&value);
  g_free(text);
  return serialized;
}

}  // namespace

void register_strv_serialization() {
  static gsize done = 0;
  if (!g_once_init_enter(&done)) return;
  if (!core_serializes_strv()) {
    static GstValueTable table = {};
    table.type = G_TYPE_STRV;
    table.serialize = serialize_strv;
    table.deserialize = deserialize_strv;
    gst_value_register(&table);
  }
  g_once_init_leave(&done, 1);
}

}  // namespace gstdtls
