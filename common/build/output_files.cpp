#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "archive/stream.hpp"
#include "archive/tar_writer.hpp"
#include "build/outputs.hpp"
#include "image/index.hpp"
#include "image/media_types.hpp"
#include "store/file_ops.hpp"
#include "store/oci_layout.hpp"
#include "util/fd.hpp"

namespace strata::build {

using store::write_file_atomic;

namespace {

std::string temp_name(const std::string& path) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000);
}

Result<void> fsync_close(util::Fd& fd, const std::string& path) {
  if (::fsync(fd.get()) != 0) return fail_errno("fsync " + path, errno);
  if (::close(fd.release()) != 0) return fail_errno("close " + path, errno);
  return {};
}

Result<void> commit_temp(util::Fd& fd, const std::string& temp, const std::string& path) {
  auto r = fsync_close(fd, temp);
  if (r && ::rename(temp.c_str(), path.c_str()) != 0) r = fail_errno("rename " + temp + " to " + path, errno);
  if (!r) ::unlink(temp.c_str());
  return r;
}

std::string layer_file_name(const LayerBlob& layer) {
  std::string_view t = layer.descriptor.media_type;
  std::string ext = ".tar";
  if (t.ends_with("gzip")) ext = ".tar.gz";
  else if (t.ends_with("zstd")) ext = ".tar.zst";
  return layer.descriptor.digest.hex() + ext;
}

archive::TarEntry file_entry(std::string name, std::uint64_t size) {
  archive::TarEntry e;
  e.path = std::move(name);
  e.type = archive::EntryType::regular;
  e.mode = 0644;
  e.size = size;
  return e;
}

Result<void> make_dirs(const std::string& path) {
  std::string cur;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      cur = path.substr(0, i);
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return fail_errno("mkdir " + cur, errno);
    }
  }
  return {};
}

// Puts a blob file into blobs/sha256/ of a layout: a hard link when possible, else a copy.
Result<void> place_blob(const std::string& src, const std::string& dst) {
  if (::access(dst.c_str(), F_OK) == 0) return {};
  if (::link(src.c_str(), dst.c_str()) == 0) return {};
  util::Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return fail_errno("open " + src, errno);
  std::string temp = temp_name(dst);
  util::Fd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out) return fail_errno("create " + temp, errno);
  archive::FdSource source(in.get(), src);
  archive::FdSink sink(out.get(), temp);
  auto copied = archive::copy_stream(source, sink);
  if (!copied) {
    ::unlink(temp.c_str());
    return fail(copied.error());
  }
  return commit_temp(out, temp, dst);
}

}  // namespace

Result<void> write_docker_archive(const std::string& path, const AssembledImage& image,
                                  const std::vector<std::string>& repo_tags) {
  std::string temp = temp_name(path);
  util::Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return fail_errno("create " + temp, errno);
  auto written = [&]() -> Result<void> {
    archive::FdSink sink(fd.get(), path);
    auto tar = TRY(archive::TarWriter::open(sink));
    std::string config_name = image.config_digest.hex() + ".json";
    TRY(tar->add_entry(file_entry(config_name, image.config_bytes.size()), image.config_bytes));
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& layer : image.layers) {
      std::string name = layer_file_name(layer);
      util::Fd in(::open(layer.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!in) return fail_errno("open " + layer.path, errno);
      archive::FdSource source(in.get(), layer.path);
      TRY(tar->add_entry(file_entry(name, static_cast<std::uint64_t>(layer.descriptor.size)), source));
      layers.push_back(name);
    }
    nlohmann::json manifest = nlohmann::json::array();
    manifest.push_back({{"Config", config_name}, {"RepoTags", repo_tags}, {"Layers", layers}});
    std::string bytes = manifest.dump();
    TRY(tar->add_entry(file_entry("manifest.json", bytes.size()), bytes));
    return tar->finish();
  }();
  if (!written) {
    ::unlink(temp.c_str());
    return fail(written.error().with_context("write " + path));
  }
  return commit_temp(fd, temp, path);
}

Result<void> write_oci_layout(const std::string& dir, const AssembledImage& image,
                              const std::vector<std::string>& ref_names) {
  TRY(make_dirs(dir + "/blobs/sha256"));
  TRY(write_file_atomic(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  auto blob = [&](const digest::Digest& d) { return dir + "/blobs/" + std::string(d.algorithm_name()) + "/" + d.hex(); };
  for (const auto& layer : image.layers) TRY(place_blob(layer.path, blob(layer.descriptor.digest)));
  if (::access(blob(image.config_digest).c_str(), F_OK) != 0) TRY(write_file_atomic(blob(image.config_digest), image.config_bytes));
  if (::access(blob(image.manifest_digest).c_str(), F_OK) != 0) TRY(write_file_atomic(blob(image.manifest_digest), image.manifest_bytes));

  image::Index index;
  index.schema_version = 2;
  index.media_type = std::string(image::media::oci_index);
  // Keep what an existing layout names under other refs.
  std::string index_path = dir + "/index.json";
  if (util::Fd in{::open(index_path.c_str(), O_RDONLY | O_CLOEXEC)}) {
    std::string bytes;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(in.get(), buf, sizeof buf)) > 0) bytes.append(buf, static_cast<std::size_t>(n));
    auto existing = image::Index::parse(bytes);
    if (!existing) return fail(existing.error().with_context(index_path));
    for (auto& d : existing->manifests) {
      auto it = d.annotations.find(std::string(store::k_ref_name_annotation));
      bool replaced = it != d.annotations.end() &&
                      std::find(ref_names.begin(), ref_names.end(), it->second) != ref_names.end();
      if (!replaced) index.manifests.push_back(std::move(d));
    }
  }
  image::Descriptor desc;
  desc.media_type = image.manifest_media_type;
  desc.digest = image.manifest_digest;
  desc.size = static_cast<std::int64_t>(image.manifest_bytes.size());
  if (ref_names.empty()) {
    index.manifests.push_back(desc);
  } else {
    for (const auto& name : ref_names) {
      auto d = desc;
      d.annotations[std::string(store::k_ref_name_annotation)] = name;
      index.manifests.push_back(std::move(d));
    }
  }
  return write_file_atomic(index_path, index.serialize());
}

Result<void> write_digest_files(const DigestFiles& files, const digest::Digest& manifest_digest,
                                const std::vector<image::Reference>& destinations) {
  if (!files.digest_file.empty()) TRY(write_file_atomic(files.digest_file, manifest_digest.str()));
  if (!files.image_name_with_digest_file.empty()) {
    std::string text;
    for (const auto& d : destinations) text += d.name() + "@" + manifest_digest.str() + "\n";
    TRY(write_file_atomic(files.image_name_with_digest_file, text));
  }
  if (!files.image_name_tag_with_digest_file.empty()) {
    std::string text;
    for (const auto& d : destinations) {
      text += d.name() + (d.tag().empty() ? "" : ":" + d.tag()) + "@" + manifest_digest.str() + "\n";
    }
    TRY(write_file_atomic(files.image_name_tag_with_digest_file, text));
  }
  return {};
}

}  // namespace strata::build
