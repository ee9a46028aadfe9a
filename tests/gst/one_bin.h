// One dtlstransportbin in a pipeline, gathering on loopback only (`local-addresses` 127.0.0.1),
// for GoogleTest cases that drive a single element; set to NULL and freed with the object.
#pragma once

#include <gst/gst.h>
#include <gtest/gtest.h>

class LoopbackBin {
 public:
  LoopbackBin() {
    pipeline_ = gst_pipeline_new(nullptr);
    bin_ = gst_element_factory_make("dtlstransportbin", nullptr);
    EXPECT_NE(bin_, nullptr) << "dtlstransportbin not found (GST_PLUGIN_PATH?)";
    g_object_set(bin_, "local-addresses", "127.0.0.1", nullptr);
    gst_bin_add(GST_BIN(pipeline_), bin_);
  }
  ~LoopbackBin() {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(pipeline_);
  }
  LoopbackBin(const LoopbackBin&) = delete;
  LoopbackBin& operator=(const LoopbackBin&) = delete;
  GstElement* bin() { return bin_; }
  GstElement* pipeline() { return pipeline_; }

 private:
  GstElement* pipeline_ = nullptr;
  GstElement* bin_ = nullptr;
};
