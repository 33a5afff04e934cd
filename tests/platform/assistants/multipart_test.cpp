// ctest-labels: unit
// The streaming multipart/form-data parser (src/platform/assistants/multipart.cpp): the same
// parts whatever the chunking (every split offset, one byte at a time, random), delimiter-like
// bytes inside file data, CRLF edge cases, and every malformed shape rejected with a 400.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "platform/assistants/multipart.h"

using namespace agora::platform;
using namespace agora::platform::assistants;

namespace {

struct Part {
  MultipartPartHead head;
  std::string data;
  bool ended = false;
};

class Collect final : public MultipartSink {
 public:
  void on_part_begin(const MultipartPartHead& h) override {
    EXPECT_TRUE(parts.empty() || parts.back().ended) << "a part began before the previous one ended";
    parts.push_back({h, "", false});
  }
  void on_part_data(std::string_view b) override {
    ASSERT_FALSE(parts.empty());
    EXPECT_FALSE(b.empty());
    EXPECT_FALSE(parts.back().ended);
    parts.back().data.append(b);
  }
  void on_part_end() override {
    ASSERT_FALSE(parts.empty());
    parts.back().ended = true;
  }
  std::vector<Part> parts;
};

struct Outcome {
  bool ok = false;
  std::string error;
  std::vector<Part> parts;
};

// Feeds `body` in the given pieces (sizes; the last piece takes the rest).
Outcome parse_in(const std::string& body, const std::string& boundary, const std::vector<size_t>& sizes) {
  MultipartParser p(boundary);
  Collect c;
  Outcome o;
  size_t off = 0;
  bool ok = true;
  for (size_t i = 0; ok && off < body.size(); ++i) {
    const size_t n = i < sizes.size() ? std::min(sizes[i], body.size() - off) : body.size() - off;
    ok = p.feed(std::string_view(body).substr(off, n), c);
    off += n;
  }
  ok = ok && p.finish();
  o.ok = ok;
  if (!ok) {
    o.error = p.error().message;
    EXPECT_EQ(p.error().http_status(), 400);
  }
  o.parts = std::move(c.parts);
  return o;
}

Outcome parse_whole(const std::string& body, const std::string& boundary = "XyZ") { return parse_in(body, boundary, {}); }

// File data full of near-misses of the delimiter "\r\n--XyZ".
const std::string kTrickyData = std::string("start\r\n--XyQ\r\n--Xy\r\r\n--X\n--XyZ--XyZ\r\n-\r\n--") + '\0' +
                                "\xff\r\n\r\n--x\r\nend\r";

std::string sample_body() {
  return "preamble to ignore\r\n"
         "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"purpose\"\r\n"
         "\r\n"
         "assistants\r\n"
         "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"file\"; filename=\"a;b \\\"c\\\".txt\"\r\n"
         "Content-Type: text/plain\r\n"
         "\r\n" +
         kTrickyData +
         "\r\n"
         "--XyZ  \t\r\n"  // transport padding
         "content-disposition: form-data; name=empty\r\n"
         "\r\n"
         "\r\n"
         "--XyZ--\r\n"
         "epilogue, also ignored\r\n--XyZ\r\n";
}

void expect_sample(const Outcome& o, const std::string& where) {
  ASSERT_TRUE(o.ok) << where << ": " << o.error;
  ASSERT_EQ(o.parts.size(), 3u) << where;
  EXPECT_EQ(o.parts[0].head.name, "purpose");
  EXPECT_FALSE(o.parts[0].head.filename);
  EXPECT_EQ(o.parts[0].data, "assistants") << where;
  EXPECT_EQ(o.parts[1].head.name, "file");
  EXPECT_EQ(o.parts[1].head.filename.value_or("-"), "a;b \"c\".txt");
  EXPECT_EQ(o.parts[1].head.content_type, "text/plain");
  EXPECT_EQ(o.parts[1].data, kTrickyData) << where;
  EXPECT_EQ(o.parts[2].head.name, "empty");
  EXPECT_EQ(o.parts[2].data, "") << where;
  for (const auto& p : o.parts) EXPECT_TRUE(p.ended) << where;
}

}  // namespace

TEST(Multipart, Whole) { expect_sample(parse_whole(sample_body()), "whole"); }

TEST(Multipart, EverySplitOffset) {
  const std::string body = sample_body();
  for (size_t at = 0; at <= body.size(); ++at) expect_sample(parse_in(body, "XyZ", {at}), "split at " + std::to_string(at));
}

TEST(Multipart, EveryPairOfSplitOffsets) {
  const std::string body = sample_body();
  for (size_t a = 0; a <= body.size(); a += 3)
    for (size_t b = 0; b <= body.size() - a; ++b)
      expect_sample(parse_in(body, "XyZ", {a, b}), "splits " + std::to_string(a) + "+" + std::to_string(b));
}

TEST(Multipart, OneByteAtATime) {
  const std::string body = sample_body();
  expect_sample(parse_in(body, "XyZ", std::vector<size_t>(body.size(), 1)), "bytewise");
}

TEST(Multipart, RandomChunkings) {
  std::mt19937 rng(7);
  const std::string body = sample_body();
  for (int round = 0; round < 500; ++round) {
    std::vector<size_t> sizes;
    for (size_t total = 0; total < body.size();) {
      sizes.push_back(std::uniform_int_distribution<size_t>(0, 24)(rng));
      total += sizes.back();
    }
    expect_sample(parse_in(body, "XyZ", sizes), "round " + std::to_string(round));
  }
}

TEST(Multipart, LargeDataWithDelimiterPrefixesAtChunkEdges) {
  // 1 MiB of data where every 64 KiB chunk ends with a growing prefix of the delimiter.
  const std::string delim = "\r\n--XyZ";
  std::string data;
  for (int i = 0; i < 16; ++i) {
    data.append(65536 - (i % delim.size()), static_cast<char>('a' + i));
    data.append(delim.substr(0, i % delim.size()));
  }
  const std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n" + data +
                           "\r\n--XyZ--";
  for (size_t chunk : {size_t(1) << 16, size_t(65536 + 7), size_t(4096), size_t(3)}) {
    std::vector<size_t> sizes(body.size() / chunk + 1, chunk);
    auto o = parse_in(body, "XyZ", sizes);
    ASSERT_TRUE(o.ok) << o.error;
    ASSERT_EQ(o.parts.size(), 1u);
    EXPECT_TRUE(o.parts[0].data == data) << "chunk " << chunk;
  }
}

TEST(Multipart, CrlfEdges) {
  auto file_body = [](const std::string& data) {
    return "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + data + "\r\n--XyZ--";
  };
  for (const std::string data : {"", "\r", "\n", "\r\n", "\r\n\r\n", "x\r", "\r\n-", "\r\n--XyQ", "--XyZ"}) {
    for (size_t at = 0; at <= file_body(data).size(); ++at) {
      auto o = parse_in(file_body(data), "XyZ", {at});
      ASSERT_TRUE(o.ok) << o.error;
      ASSERT_EQ(o.parts.size(), 1u);
      EXPECT_EQ(o.parts[0].data, data);
    }
  }
  // The first delimiter may open the body, or follow a preamble line; a closing delimiter right
  // after the first one is an empty form; nothing after the closing "--" matters.
  EXPECT_TRUE(parse_whole("--XyZ--").ok);
  EXPECT_TRUE(parse_whole("\r\n--XyZ--").ok);
  EXPECT_TRUE(parse_whole("junk\r\n--XyZ--garbage").ok);
  EXPECT_EQ(parse_whole("--XyZ--").parts.size(), 0u);
}

TEST(Multipart, Malformed) {
  const std::string head = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n";
  struct Case {
    std::string body, expect;
  };
  const std::vector<Case> cases = {
      {"", "no boundary line"},
      {"no delimiter anywhere", "no boundary line"},
      {"x--XyZ\r\n", "no boundary line"},  // a delimiter must start a line
      {head + "data", "truncated"},        // no final boundary
      {head + "data\r\n--XyZ", "truncated"},
      {head + "data\r\n--XyZ\r\n", "truncated"},
      {head + "data\r\n--XyZ-", "truncated"},
      {head + "data\r\n--XyZ-x", "boundary line"},
      {head + "data\r\n--XyZx\r\n", "boundary line"},
      {head + "data\r\n--XyZ \r\n\r\n", "Content-Disposition name"},
      {head + "data\r\n--XyZ" + std::string(65, ' ') + "\r\n", "boundary line"},
      {"--XyZ\r\n\r\ndata\r\n--XyZ--", "Content-Disposition name"},
      {"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", "Content-Disposition name"},
      {"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--", "Content-Disposition name"},
      {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\n\nx\r\n--XyZ--", "CRLF"},
      {"--XyZ\r\nX-Long: " + std::string(5000, 'a') + "\r\n\r\nx\r\n--XyZ--", "longer than 4096"},
      {"--XyZ\n", "boundary line"},
  };
  for (const auto& c : cases) {
    for (size_t at = 0; at <= c.body.size(); at += std::max<size_t>(1, c.body.size() / 50)) {
      auto o = parse_in(c.body, "XyZ", {at});
      EXPECT_FALSE(o.ok) << c.body;
      EXPECT_NE(o.error.find(c.expect), std::string::npos) << c.body << " → " << o.error;
    }
  }
  // Too many parts.
  std::string many;
  for (size_t i = 0; i <= kMaxMultipartParts; ++i) many += "--XyZ\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nv\r\n";
  many += "--XyZ--";
  auto o = parse_whole(many);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.error.find("Too many"), std::string::npos) << o.error;
  EXPECT_EQ(o.parts.size(), kMaxMultipartParts);  // the sink never sees the part over the cap
  // After an error, more input is refused and changes nothing.
  MultipartParser p("XyZ");
  Collect c;
  EXPECT_FALSE(p.feed("--XyZ\r\n\r\n", c));
  EXPECT_FALSE(p.feed("--XyZ--", c));
  EXPECT_FALSE(p.finish());
}

TEST(Multipart, LongBoundary) {
  const std::string b(kMaxBoundaryBytes, 'b');
  const std::string body = "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n--" + b.substr(1) +
                           "\r\n--" + b + "--";
  for (size_t at = 0; at <= body.size(); ++at) {
    auto o = parse_in(body, b, {at});
    ASSERT_TRUE(o.ok) << o.error;
    ASSERT_EQ(o.parts.size(), 1u);
    EXPECT_EQ(o.parts[0].data, "\r\n--" + b.substr(1));
  }
}

TEST(Multipart, Boundary) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc").value(), "abc");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"a;b c\"").value(), "a;b c");
  EXPECT_EQ(multipart_boundary("application/json").error().http_status(), 415);
  EXPECT_EQ(multipart_boundary("multipart/form-data").error().http_status(), 400);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=").error().http_status(), 400);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(201, 'x')).error().http_status(), 400);
}

TEST(Multipart, HeaderParams) {
  EXPECT_EQ(header_param("form-data; name=\"file\"; filename=\"a.txt\"", "name").value(), "file");
  EXPECT_EQ(header_param("form-data; name=\"file\"; filename=\"a.txt\"", "filename").value(), "a.txt");
  // A quoted `;` or `name=` inside another parameter is not a parameter.
  EXPECT_EQ(header_param("form-data; filename=\"x; name=evil\"; name=\"file\"", "name").value(), "file");
  EXPECT_EQ(header_param("form-data; NAME = bare ; x=1", "name").value(), "bare");
  EXPECT_FALSE(header_param("form-data; filename=\"a\"", "name"));
  EXPECT_FALSE(header_param("form-data; name", "name"));
  EXPECT_EQ(header_param("form-data; name=\"unterminated", "name").value(), "unterminated");
}
