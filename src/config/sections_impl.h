#pragma once
// Readers for each section of the schema (DESIGN §7) and the cross-reference pass. Each
// reader fills its struct from what is valid and reports the rest through the Reader, so one
// bad key never hides the next one.

#include "freshet/config/config.h"
#include "reader_impl.h"

namespace freshet::config {

// The whole document; `root` must be a map.
Config read_config(Reader& r, const YAML::Node& root);

void read_server(Reader& r, const Entry& e, ServerConfig& out);          // server.cc
void read_checkpoint(Reader& r, const Entry& e, CheckpointConfig& out);  // server.cc
void read_topic(Reader& r, const Entry& e, TopicConfig& out);            // topic.cc
// `schema:` of topic `topic` (topic_schema.cc); false when a field was left out for an error.
bool read_schema(Reader& r, const Entry& e, std::string_view topic, std::vector<SchemaField>& out);
// When a topic has both a schema and an event time, the field must be in it as a timestamp or
// an int (topic_schema.cc).
void check_event_time_schema(Reader& r, const TopicConfig& t);
void read_source(Reader& r, const Entry& e, SourceConfig& out);  // source.cc
void read_query(Reader& r, const Entry& e, QueryConfig& out);    // query_sink.cc
void read_sink(Reader& r, const Entry& e, SinkConfig& out);      // query_sink.cc

// References between sections: source `to`, sink `inputs`, sink paths (validate.cc).
void validate_references(Reader& r, const Config& c);

}  // namespace freshet::config
