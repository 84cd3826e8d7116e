#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include "demo.h"

std::string demo_report(const std::vector<std::string> &words) {
    std::map<std::string, int> counts;
    for (const auto &w : words) counts[w]++;
    std::ostringstream out;
    for (const auto &[word, n] : counts) {
        char hex[16];
        demo_format_hex(demo_checksum(word.data(), word.size()), hex, sizeof hex);
        out << word << " x" << n << " " << hex << "\n";
    }
    return out.str();
}
