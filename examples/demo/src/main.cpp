#include <iostream>
#include <string>
#include <vector>

std::string demo_report(const std::vector<std::string> &words);

int main() {
    std::vector<std::string> words{"cache", "hit", "miss", "hit", "cache", "hit"};
    std::cout << demo_report(words);
    return 0;
}
