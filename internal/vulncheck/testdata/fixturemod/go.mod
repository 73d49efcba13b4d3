module fixturemod

go 1.26
