#include "sim/names.h"

#include <iterator>

namespace fluxscore::sim {
namespace {

// Common English words (all in Debian's wamerican list), 3-9 letters.
constexpr std::string_view kWords[] = {
    "able", "account", "acorn", "active", "actor", "adventure", "agent", "alpha", "amber", "anchor",
    "angel", "apple", "arrow", "art", "astro", "atlas", "auto", "autumn", "badge", "baker",
    "balance", "bamboo", "banner", "bargain", "basket", "beach", "bear", "beauty", "berry", "best",
    "bird", "black", "blade", "blue", "board", "boat", "bold", "book", "boost", "border",
    "bottle", "box", "brain", "branch", "brave", "bridge", "bright", "broker", "brook", "brown",
    "budget", "builder", "butter", "cabin", "cactus", "camera", "camp", "candle", "canyon", "capital",
    "captain", "car", "card", "care", "cargo", "carpet", "castle", "cat", "cedar", "center",
    "chain", "chance", "charm", "chart", "check", "chef", "cherry", "chess", "circle", "city",
    "classic", "clean", "clear", "cliff", "clinic", "clock", "cloud", "clover", "coach", "coast",
    "coffee", "coin", "color", "comet", "comfort", "coral", "corner", "cosmic", "cottage", "country",
    "craft", "crane", "credit", "crest", "crown", "crystal", "cube", "cup", "daily", "dance",
    "dash", "dawn", "deal", "delta", "desert", "design", "diamond", "digital", "direct", "dock",
    "dollar", "dragon", "dream", "drive", "eagle", "earth", "easy", "echo", "eden", "edge",
    "element", "elite", "ember", "empire", "energy", "engine", "epic", "escape", "event", "expert",
    "express", "fabric", "factory", "fair", "falcon", "family", "farm", "fashion", "fast", "feather",
    "field", "finance", "fire", "first", "fish", "flag", "flash", "fleet", "flower", "focus",
    "forest", "fortune", "forum", "fox", "fresh", "friend", "frontier", "fruit", "fun", "future",
    "galaxy", "game", "garden", "gate", "gear", "gem", "giant", "gift", "global", "glory",
    "gold", "good", "grand", "graph", "green", "grid", "group", "guard", "guide", "habit",
    "harbor", "harvest", "hawk", "health", "heart", "helix", "hero", "hill", "hive", "holiday",
    "home", "honey", "horizon", "horse", "host", "hotel", "house", "hub", "idea", "image",
    "impact", "index", "info", "insight", "iron", "island", "ivory", "jade", "jet", "jewel",
    "journey", "joy", "jungle", "key", "kind", "king", "kitchen", "lab", "lake", "lamp",
    "land", "laser", "leaf", "learn", "legend", "level", "liberty", "light", "lime", "line",
    "link", "lion", "live", "loan", "local", "logic", "lotus", "lucky", "lunar", "magic",
    "main", "maple", "market", "master", "matrix", "meadow", "media", "medical", "metro", "mind",
    "mint", "mirror", "mobile", "modern", "money", "moon", "motion", "motor", "mountain", "music",
    "nation", "nature", "net", "nest", "news", "night", "noble", "north", "nova", "oak",
    "ocean", "office", "olive", "omega", "online", "open", "orange", "orbit", "origin", "outdoor",
    "palm", "panda", "paper", "park", "path", "peak", "pearl", "pet", "phoenix", "photo",
    "pilot", "pine", "pioneer", "pixel", "planet", "plaza", "point", "polar", "power", "prime",
    "print", "pro", "pulse", "pure", "quest", "quick", "radio", "rain", "ranch", "rapid",
    "raven", "real", "red", "reef", "rest", "retail", "ridge", "river", "road", "robot",
    "rock", "rocket", "royal", "ruby", "safe", "sage", "sail", "salt", "sand", "saturn",
    "scene", "school", "science", "sea", "secure", "seed", "select", "shadow", "share", "shield",
    "shine", "ship", "shop", "sierra", "signal", "silver", "simple", "sky", "smart", "snow",
    "solar", "solid", "sound", "south", "space", "spark", "speed", "sphere", "spice", "spirit",
    "sport", "spring", "square", "star", "steel", "stone", "storm", "story", "stream", "street",
    "studio", "style", "summit", "sun", "super", "supply", "swift", "system", "table", "talent",
    "target", "taste", "team", "tech", "temple", "terra", "texas", "thunder", "tiger", "time",
    "titan", "today", "token", "top", "tower", "town", "track", "trade", "trail", "travel",
    "tree", "trend", "tribe", "trust", "tulip", "turbo", "union", "unity", "urban", "valley",
    "value", "vector", "velvet", "venture", "vertex", "view", "villa", "vision", "vista", "vital",
    "voice", "wave", "way", "web", "west", "whale", "wild", "willow", "wind", "wing",
    "winter", "wise", "wolf", "wonder", "wood", "word", "work", "world", "yard", "yellow",
    "yoga", "zen", "zone",
};

}  // namespace

std::string_view Word(Rng& r) { return kWords[r.Below(std::size(kWords))]; }

std::string TwoWords(Rng& r, double p_hyphen) {
  std::string s(Word(r));
  std::string_view b = Word(r);
  while (b == s) b = Word(r);
  if (r.Chance(p_hyphen)) s.push_back('-');
  s.append(b);
  return s;
}

std::string DgaLabel(Rng& r) {
  static constexpr char kCons[] = "bcdfghjklmnpqrstvwxz";
  static constexpr char kVow[] = "aeiouy";
  const int len = static_cast<int>(r.Range(8, 18));
  const bool digits = r.Chance(0.3);
  std::string s;
  for (int i = 0; i < len; ++i) {
    if (digits && r.Chance(0.2)) {
      s.push_back(static_cast<char>('0' + r.Below(10)));
    } else if (r.Chance(0.27)) {
      s.push_back(kVow[r.Below(6)]);
    } else {
      s.push_back(kCons[r.Below(20)]);
    }
  }
  if (s[0] >= '0' && s[0] <= '9') s[0] = 'x';
  return s;
}

}  // namespace fluxscore::sim
