DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE phone_numbers;
DROP TABLE campaign_buyers;
DROP TABLE buyers;
DROP TABLE campaigns;
DROP TABLE publishers;
