// /v1/files: multipart upload (streamed to the Store's FileUpload in pieces), list (purpose
// filter, cursor pagination), retrieve, content, delete.
#include <algorithm>

#include "platform/assistants/assistants_request.h"
#include "platform/assistants/multipart.h"
#include "platform/assistants/route_util.h"

namespace agora::platform::assistants {

namespace bhttp = boost::beast::http;
using nlohmann::json;

namespace {

constexpr size_t kUploadPieceBytes = 64 * 1024;
constexpr size_t kMaxFilenameBytes = 255;

bool known_purpose(const std::string& p) {
  static const char* kPurposes[] = {"assistants", "batch", "fine-tune", "vision", "user_data", "evals"};
  return std::any_of(std::begin(kPurposes), std::end(kPurposes), [&](const char* k) { return p == k; });
}

void upload_file(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto boundary = multipart_boundary(ex.request()[bhttp::field::content_type]);
  if (!boundary.ok()) return ex.set_error(boundary.error());
  auto parts = parse_multipart(ex.body(), boundary.value());
  if (!parts.ok()) return ex.set_error(parts.error());
  const MultipartPart* file = nullptr;
  std::optional<std::string> purpose;
  for (const auto& p : parts.value()) {
    if (p.name == "file" && !file) file = &p;
    else if (p.name == "purpose") purpose = std::string(p.body);
  }
  if (!purpose) return ex.set_error(ApiError::invalid("purpose", "'purpose' is required."));
  if (!known_purpose(*purpose))
    return ex.set_error(ApiError::invalid("purpose", "'" + *purpose +
                                                         "' is not a valid purpose: use assistants, batch, fine-tune, vision, user_data or evals."));
  if (!file) return ex.set_error(ApiError::invalid("file", "'file' is required (a multipart file part)."));
  std::string filename = file->filename.value_or("upload");
  if (filename.empty()) filename = "upload";
  if (filename.size() > kMaxFilenameBytes) return ex.set_error(ApiError::invalid("file", "The file name is longer than 255 bytes."));
  auto upload = ctx.store.begin_file(owner, filename, *purpose);
  if (!upload) return ex.set_error(api_error_for(upload.status(), "file"));
  for (size_t off = 0; off < file->body.size(); off += kUploadPieceBytes) {
    auto st = upload.value()->write(file->body.substr(off, kUploadPieceBytes));
    if (!st.ok()) return ex.set_error(api_error_for(st, "file"));
  }
  auto committed = upload.value()->commit();
  if (!committed) return ex.set_error(api_error_for(committed.status(), "file"));
  send_json(ex, file_json(committed.value()));
}

void list_files(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  const std::string target = target_of(ex);
  auto page = parse_page(target);
  if (!page.ok()) return ex.set_error(page.error());
  if (!query_param(target, "limit")) page.value().limit = storage::kMaxPageLimit;  // OpenAI lists up to 10,000; we page by 100
  const std::string purpose = query_param(target, "purpose").value_or("");
  auto files = ctx.store.list_files(owner, purpose, page.value());
  if (!files) return send_store_error(ex, files.status(), "file", page.value().after + page.value().before);
  send_json(ex, list_json(files.value(), file_json));
}

void get_file(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto f = ctx.store.get_file(owner, ex.path_params[0]);
  if (!f) return send_store_error(ex, f.status(), "file", ex.path_params[0]);
  send_json(ex, file_json(f.value()));
}

void file_content(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto reader = ctx.store.open_file_content(owner, ex.path_params[0]);
  if (!reader) return send_store_error(ex, reader.status(), "file", ex.path_params[0]);
  auto bytes = reader.value()->read_all();
  if (!bytes) return ex.set_error(api_error_for(bytes.status()));
  ex.set_response(200, "application/octet-stream", std::move(bytes.value()));
}

void delete_file(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto st = ctx.store.delete_file(owner, ex.path_params[0]);
  if (!st.ok()) return send_store_error(ex, st, "file", ex.path_params[0]);
  send_json(ex, deleted_json(ex.path_params[0], "file"));
}

}  // namespace

void register_file_routes(http::Router& router, AssistantsContext& ctx) {
  add_sync<&upload_file>(router, bhttp::verb::post, "/v1/files", ctx);
  add_sync<&list_files>(router, bhttp::verb::get, "/v1/files", ctx);
  add_sync<&get_file>(router, bhttp::verb::get, "/v1/files/{}", ctx);
  add_sync<&file_content>(router, bhttp::verb::get, "/v1/files/{}/content", ctx);
  add_sync<&delete_file>(router, bhttp::verb::delete_, "/v1/files/{}", ctx);
}

void register_assistants_routes(http::Router& router, AssistantsContext& ctx) {
  register_file_routes(router, ctx);
  register_run_routes(router, ctx);  // first: POST /v1/threads/runs before POST /v1/threads/{}
  register_thread_routes(router, ctx);
}

}  // namespace agora::platform::assistants
